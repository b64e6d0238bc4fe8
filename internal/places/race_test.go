//go:build race

package places

// raceDetector is true in a -race build, where sync.Pool (which fold's chains use) drops
// items at random on purpose, so allocation counts are not Lookup's own.
const raceDetector = true
