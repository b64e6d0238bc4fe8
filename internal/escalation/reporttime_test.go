package escalation

import (
	"maps"
	"testing"
	"time"
)

// TestReportTimeData: a report's time is said in New Mexico's time, in each language's way.
func TestReportTimeData(t *testing.T) {
	es, en := "ene feb mar abr may jun jul ago sep oct nov dic", "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
	cases := []struct {
		name          string
		at            time.Time
		months, hours string
		want          map[string]string
	}{
		{"winter afternoon, es", time.Date(2024, 12, 6, 21, 5, 0, 0, time.UTC), es, "24", map[string]string{"Day": "6", "Month": "dic", "Clock": "14:05"}},
		{"winter afternoon, en", time.Date(2024, 12, 6, 21, 5, 0, 0, time.UTC), en, "12", map[string]string{"Day": "6", "Month": "Dec", "Clock": "2:05 PM"}},
		{"summer time, after midnight UTC", time.Date(2024, 7, 1, 5, 30, 0, 0, time.UTC), en, "12", map[string]string{"Day": "30", "Month": "Jun", "Clock": "11:30 PM"}},
		{"midnight on 12 hours", time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC), en, "12", map[string]string{"Day": "1", "Month": "Jan", "Clock": "12:00 AM"}},
		{"no month names: a number", time.Date(2024, 3, 3, 19, 0, 0, 0, time.UTC), "", "24", map[string]string{"Day": "3", "Month": "3", "Clock": "12:00"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ReportTimeData(c.at, loadZone(), c.months, c.hours); !maps.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
