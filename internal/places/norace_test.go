//go:build !race

package places

const raceDetector = false
