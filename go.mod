module github.com/communityhotline/hotline

go 1.26

require golang.org/x/text v0.44.0
