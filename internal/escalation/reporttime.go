package escalation

import (
	"fmt"
	"strings"
	"time"

	// The hotline's time zone must load on a machine without a zoneinfo database (a
	// distroless image): the draft of an alert says when the report came, in local time.
	_ "time/tzdata"

	"github.com/communityhotline/hotline/internal/flow"
)

// Zone is the hotline's time zone: New Mexico's. Drafts name a report's time in it.
const Zone = "America/Denver"

// loadZone returns the hotline's time zone, or Mountain Standard Time should the database
// ever lack it (it is embedded, so it does not).
func loadZone() *time.Location {
	if loc, err := time.LoadLocation(Zone); err == nil {
		return loc
	}
	return time.FixedZone("MST", -7*3600)
}

// ReportTimeData is what report_time is rendered with for instant t in loc: the day, the
// month's short name from months (a language's months_short: 12 names, space-separated), and
// the clock on 12 hours ("2:05 PM") when hours (its clock_hours) is "12", else on 24 ("14:05").
func ReportTimeData(t time.Time, loc *time.Location, months, hours string) map[string]string {
	t = t.In(loc)
	names := strings.Fields(months)
	month := fmt.Sprint(int(t.Month()))
	if len(names) == 12 {
		month = names[t.Month()-1]
	}
	h12, ampm := t.Hour()%12, "AM"
	if h12 == 0 {
		h12 = 12
	}
	if t.Hour() >= 12 {
		ampm = "PM"
	}
	clock := t.Format("15:04")
	if strings.TrimSpace(hours) == "12" {
		clock = fmt.Sprintf("%d:%02d %s", h12, t.Minute(), ampm)
	}
	return map[string]string{"Day": fmt.Sprint(t.Day()), "Month": month, "Clock": clock}
}

// reportTime is instant t as a draft of an alert says it in lang ("6 dic 14:05",
// "Dec 6 2:05 PM"): an absolute time, since the reporter's "right now" is wrong by the time
// the alert is read.
func (s *Service) reportTime(t time.Time, lang string) (string, error) {
	// One message at a time: a renderer may join the replies of one call into one SMS.
	months, err := s.cfg.Renderer.Render(lang, []flow.Reply{{ID: "months_short"}})
	if err != nil {
		return "", fmt.Errorf("naming months: %w", err)
	}
	hours, err := s.cfg.Renderer.Render(lang, []flow.Reply{{ID: "clock_hours"}})
	if err != nil {
		return "", fmt.Errorf("choosing a clock: %w", err)
	}
	data := ReportTimeData(t, s.cfg.Location, strings.Join(months, " "), strings.Join(hours, ""))
	texts, err := s.cfg.Renderer.Render(lang, []flow.Reply{{ID: "report_time", Data: data}})
	if err != nil {
		return "", fmt.Errorf("writing a report's time: %w", err)
	}
	return strings.Join(texts, " "), nil
}
