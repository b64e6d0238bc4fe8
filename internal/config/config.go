// Package config reads the hotline's settings from the environment. Every setting is listed
// once, in Settings, which also feeds `hotline help` and the README table.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Setting documents one environment variable.
type Setting struct {
	Name, Default, Meaning string
}

// Settings lists every environment variable the hotline reads.
var Settings = []Setting{
	{"PORT", "8080", "listen port"},
	{"PUBLIC_URL", "", "the base URL Twilio calls (e.g. https://x.fly.dev); signatures are checked against PUBLIC_URL + the request's path and query. Required with Twilio."},
	{"TWILIO_ACCOUNT_SID", "", "Twilio account SID. Required with Twilio."},
	{"TWILIO_AUTH_TOKEN", "", "Twilio auth token; also checks webhook signatures. Unset = local mode: listen on 127.0.0.1 only, no signature check, print outbound messages."},
	{"TWILIO_FROM", "", "sender number for messages sent outside a reply (or use TWILIO_MESSAGING_SERVICE_SID)"},
	{"TWILIO_MESSAGING_SERVICE_SID", "", "Messaging Service that sends messages outside a reply"},
	{"TWILIO_API_BASE", "", "base URL of a Twilio-compatible REST API (another provider, or a local fake in tests)"},
	{"REDIS_URL", "", "redis:// or rediss://; unset = an embedded in-process Redis (nothing survives a restart)"},
	{"REDIS_CLUSTER", "false", "true when REDIS_URL points at a Redis Cluster (redis://host:port?addr=host2:port2…)"},
	{"HOTLINE_REDIS_WAIT", "0", "with replicas (a Redis Cluster, or a Redis with a replica): after each write a member was promised (their state and reply, subscriptions, cases, an alert's outcome), wait up to this long for a replica to have it (WAIT 1), so a master that dies right after answering loses none of them; e.g. 100ms. A replica that does not answer in time is logged and the write kept on the master alone. 0 = do not wait (a Redis without replicas)"},
	{"HOTLINE_KEY_PREFIX", "hotline", "every Redis key starts with it, so several hotlines or test runs share one Redis"},
	{"HOTLINE_SECRET", "", "key material for member ids and for sealing stored data (16+ characters; never change it: ids derive from it). Required unless in local mode."},
	{"HOTLINE_SEALING_SECRETS", "", "later sealing secrets, comma-separated, oldest first (16+ characters each): new data is sealed with the last, older data still opens; after `hotline reseal`, an old one is removed by writing - in its place (docs/privacy.md, key rotation)"},
	{"HOTLINE_PROGRAM_NAME", "Community Hotline", "the program's name, said in greetings, HELP and opt-in confirmations"},
	{"HOTLINE_CONTACT", "", "how members reach the deploying organization by phone or in person (said in HELP and when no one is available). Required unless in local mode."},
	{"HOTLINE_CONVERSATION_TTL", "720h", "how long an idle conversation is remembered (Go duration); subscribers' and opted-out members' records stay"},
	{"HOTLINE_SMS_ENCODING", "unicode", "unicode (correct Spanish spelling) or gsm (replace á, curly quotes… to cut segment cost)"},
	{"HOTLINE_SEGMENT_BUDGET", "3", "`hotline check` fails on any member message longer than this many segments, at its longest with real data (locales/segments.toml lists the exceptions)"},
	{"LOG_FORMAT", "", "text or json; default json outside local mode"},
	{"ADMIN_TOKEN", "", "the administrator's token for the admin API (manages organizers); unset = the admin API answers 404"},
	{"HOTLINE_SEND_RATE", "1", "segments per second sent outside replies, across all processes (0 = unlimited)"},
	{"HOTLINE_BROADCAST_APPROVALS", "0", "1 = every broadcast needs a second organizer's approval before it is sent"},
	{"HOTLINE_COST_PER_SEGMENT", "0", "USD per SMS segment, for broadcast cost estimates (set it to your provider's price)"},
	{"HOTLINE_WORKER", "on", "on = `serve` also sends queued messages; off = leave it to `hotline worker` processes"},
	{"HOTLINE_WORKER_CONCURRENCY", "8", "sends in flight at once per process"},
	{"HOTLINE_CLAIM_IDLE", "30s", "how long a queued send read by a process that then died waits before another process takes it over"},
	{"HOTLINE_ESCALATION_TIMEOUT", "10m", "a case unclaimed this long pages every volunteer on call and the organizers"},
	{"HOTLINE_CASE_RETENTION", "168h", "how long a closed case's transcript is kept"},
	{"HOTLINE_VOLUNTEER_NAMES", "first", "first = tell members the volunteer's first name; generic = \"a volunteer\""},
	{"HOTLINE_SENDER_LIMIT", "20", "messages a minute one member may send; past it they get one notice and the rest are dropped unread (0 = no limit)"},
	{"HOTLINE_REPLY_CAP", "60", "messages from one member answered in an hour (past it they are dropped), so two bots cannot loop (0 = no cap)"},
	{"HOTLINE_SPOOL_DIR", "", "where messages that arrive while Redis is down are kept (sealed, fsync'd) until it is back; default: a hotline-spool folder in the system's temp dir. Use a persistent volume in production."},
	{"HOTLINE_SPOOL_MAX_BYTES", "67108864", "the most the spool may hold; past it, messages get the fallback reply only"},
	{"HOTLINE_SEND_BACKOFF", "1s", "the first wait before retrying a send that failed for a passing reason (429, 5xx, timeout); it doubles each time, up to a minute, 8 tries in all"},
	{"HOTLINE_METRICS_ADDR", "", "host:port of a private listener for GET /metrics in serve and worker (e.g. :9091; Fly scrapes it over the private network); when set, the public port answers 404 to /metrics. Unset = /metrics on the public port"},
	{"HOTLINE_CLIENT_IP_HEADER", "", "the header in which the proxy in front of the hotline gives the client's address, for the console's sign-in limits (`Fly-Client-IP` on Fly.io); empty: the connection's address, which behind a proxy is the proxy's, shared by every user"},
	{"HOTLINE_POLICY_STALE_DAYS", "60", "a county or city policy entry last checked against its source more than this many days ago is flagged stale for organizers (the console, `hotline policy list`)"},
	{"HOTLINE_WA_RATE", "20", "WhatsApp messages per second sent outside replies, across all processes, paced apart from SMS (Meta's limits are per message, not per segment; 0 = unlimited)"},
	{"HOTLINE_WA_TEMPLATE_ALERT_ES", "", "the approved WhatsApp template (Content SID, HX…) an alert goes as to a Spanish-speaking member who has not written in 23 hours; its one variable is the alert. Unset: such members are skipped, and the alert's report counts them (docs/deploy.md, WhatsApp)"},
	{"HOTLINE_WA_TEMPLATE_ALERT_EN", "", "the same for English"},
	{"HOTLINE_WA_TEMPLATE_REPLY_ES", "", "the approved WhatsApp template (HX…, no variables) that tells a Spanish-speaking member who has not written in 23 hours that a message waits for them (a volunteer's reply): it is held and given when they answer. Unset: such messages are not sent"},
	{"HOTLINE_WA_TEMPLATE_REPLY_EN", "", "the same for English"},
	{"HOTLINE_URL", "http://127.0.0.1:8080", "where `hotline broadcast` finds the hotline's admin API"},
	{"HOTLINE_TOKEN", "", "the token `hotline broadcast` sends (an organizer's, or ADMIN_TOKEN)"},
}

// Config is the parsed settings.
type Config struct {
	Port                int
	PublicURL           string
	AccountSID          string
	AuthToken           string
	From                string
	MessagingServiceSID string
	APIBase             string
	RedisURL            string
	RedisCluster        bool
	RedisWait           time.Duration
	KeyPrefix           string
	Secret              string
	SealingSecrets      []string
	ProgramName         string
	Contact             string
	ConversationTTL     time.Duration
	GSM                 bool
	SegmentBudget       int
	LogJSON             bool
	AdminToken          string
	SendRate            float64
	Approvals           bool
	CostPerSegment      float64
	Worker              bool
	WorkerConcurrency   int
	ClaimIdle           time.Duration
	EscalationTimeout   time.Duration
	CaseRetention       time.Duration
	VolunteerNames      bool
	SenderLimit         int64
	SpoolDir            string
	MetricsAddr         string
	SendBackoff         time.Duration
	SpoolMaxBytes       int64
	ReplyCap            int64
	// ClientIPHeader names the header with the client's address, set by a trusted proxy.
	ClientIPHeader string
	// PolicyStale is how old an entry's last check may be before it is flagged stale.
	PolicyStale  time.Duration
	HotlineURL   string
	HotlineToken string
	// WARate is WhatsApp's send rate in messages per second (0 = unlimited).
	WARate float64
	// WATemplates are the approved WhatsApp templates' Content SIDs by purpose ("alert",
	// "reply") and language; a purpose or language without one has none.
	WATemplates map[string]map[string]string
}

// WhatsApp template purposes: an alert (one variable, the alert's text) and "a message waits
// for you, reply to read it" (none).
const (
	WATemplateAlert = "alert"
	WATemplateReply = "reply"
)

// contentSID matches a Twilio Content SID: HX and 32 hex digits.
var contentSID = regexp.MustCompile(`^HX[0-9a-fA-F]{32}$`)

// LocalSecret is the member-id secret of local mode: fine for trying the hotline on a
// laptop, never for real members, which is why Parse refuses it outside local mode.
const LocalSecret = "local-mode-secret-not-for-real-members"

// Local reports whether the hotline runs without Twilio: loopback only, no signature check.
func (c Config) Local() bool { return c.AuthToken == "" }

// Parse reads the settings through getenv and checks them, reporting every problem at once.
func Parse(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, s := range Settings {
			if s.Name == name {
				return s.Default
			}
		}
		return ""
	}
	var errs []error
	c := Config{
		PublicURL:           strings.TrimRight(get("PUBLIC_URL"), "/"),
		AccountSID:          get("TWILIO_ACCOUNT_SID"),
		AuthToken:           get("TWILIO_AUTH_TOKEN"),
		From:                get("TWILIO_FROM"),
		MessagingServiceSID: get("TWILIO_MESSAGING_SERVICE_SID"),
		APIBase:             strings.TrimRight(get("TWILIO_API_BASE"), "/"),
		RedisURL:            get("REDIS_URL"),
		KeyPrefix:           get("HOTLINE_KEY_PREFIX"),
		Secret:              get("HOTLINE_SECRET"),
		ProgramName:         get("HOTLINE_PROGRAM_NAME"),
		Contact:             get("HOTLINE_CONTACT"),
		AdminToken:          get("ADMIN_TOKEN"),
		ClientIPHeader:      get("HOTLINE_CLIENT_IP_HEADER"),
		HotlineURL:          strings.TrimRight(get("HOTLINE_URL"), "/"),
		HotlineToken:        get("HOTLINE_TOKEN"),
	}
	for _, sec := range strings.Split(get("HOTLINE_SEALING_SECRETS"), ",") {
		if sec = strings.TrimSpace(sec); sec != "" {
			// "-" keeps the place of a removed secret (privacy.Retired), so the newer ones
			// keep their version numbers.
			if sec != "-" && len(sec) < 16 {
				errs = append(errs, errors.New("each of HOTLINE_SEALING_SECRETS must be at least 16 characters, or - for a removed one"))
			}
			c.SealingSecrets = append(c.SealingSecrets, sec)
		}
	}
	if n := len(c.SealingSecrets); n > 0 && c.SealingSecrets[n-1] == "-" {
		errs = append(errs, errors.New("the last of HOTLINE_SEALING_SECRETS seals new data: it cannot be - (removed)"))
	}
	var err error
	if c.RedisCluster, err = strconv.ParseBool(get("REDIS_CLUSTER")); err != nil {
		errs = append(errs, fmt.Errorf("REDIS_CLUSTER %q must be true or false", get("REDIS_CLUSTER")))
	}
	if c.RedisWait, err = time.ParseDuration(get("HOTLINE_REDIS_WAIT")); err != nil || c.RedisWait < 0 || c.RedisWait > 5*time.Second {
		errs = append(errs, fmt.Errorf("HOTLINE_REDIS_WAIT %q must be a duration from 0 to 5s, like 100ms", get("HOTLINE_REDIS_WAIT")))
	}
	if c.Port, err = strconv.Atoi(get("PORT")); err != nil || c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT %q is not a port number", get("PORT")))
	}
	if c.ConversationTTL, err = time.ParseDuration(get("HOTLINE_CONVERSATION_TTL")); err != nil || c.ConversationTTL < time.Hour {
		errs = append(errs, fmt.Errorf("HOTLINE_CONVERSATION_TTL %q must be a duration of at least 1h, like 720h", get("HOTLINE_CONVERSATION_TTL")))
	}
	switch enc := strings.ToLower(get("HOTLINE_SMS_ENCODING")); enc {
	case "unicode":
	case "gsm":
		c.GSM = true
	default:
		errs = append(errs, fmt.Errorf("HOTLINE_SMS_ENCODING %q must be unicode or gsm", enc))
	}
	if c.SegmentBudget, err = strconv.Atoi(get("HOTLINE_SEGMENT_BUDGET")); err != nil || c.SegmentBudget < 1 {
		errs = append(errs, fmt.Errorf("HOTLINE_SEGMENT_BUDGET %q must be a whole number of at least 1", get("HOTLINE_SEGMENT_BUDGET")))
	}
	if c.SendRate, err = strconv.ParseFloat(get("HOTLINE_SEND_RATE"), 64); err != nil || c.SendRate < 0 || c.SendRate > 10000 {
		errs = append(errs, fmt.Errorf("HOTLINE_SEND_RATE %q must be a number of segments per second from 0 to 10000", get("HOTLINE_SEND_RATE")))
	}
	switch get("HOTLINE_BROADCAST_APPROVALS") {
	case "0":
	case "1":
		c.Approvals = true
	default:
		errs = append(errs, fmt.Errorf("HOTLINE_BROADCAST_APPROVALS %q must be 0 or 1", get("HOTLINE_BROADCAST_APPROVALS")))
	}
	if c.CostPerSegment, err = strconv.ParseFloat(get("HOTLINE_COST_PER_SEGMENT"), 64); err != nil || c.CostPerSegment < 0 {
		errs = append(errs, fmt.Errorf("HOTLINE_COST_PER_SEGMENT %q must be a price in USD, like 0.0083", get("HOTLINE_COST_PER_SEGMENT")))
	}
	switch strings.ToLower(get("HOTLINE_WORKER")) {
	case "on", "true", "1":
		c.Worker = true
	case "off", "false", "0":
	default:
		errs = append(errs, fmt.Errorf("HOTLINE_WORKER %q must be on or off", get("HOTLINE_WORKER")))
	}
	if c.WorkerConcurrency, err = strconv.Atoi(get("HOTLINE_WORKER_CONCURRENCY")); err != nil || c.WorkerConcurrency < 1 || c.WorkerConcurrency > 256 {
		errs = append(errs, fmt.Errorf("HOTLINE_WORKER_CONCURRENCY %q must be a whole number from 1 to 256", get("HOTLINE_WORKER_CONCURRENCY")))
	}
	if c.ClaimIdle, err = time.ParseDuration(get("HOTLINE_CLAIM_IDLE")); err != nil || c.ClaimIdle < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("HOTLINE_CLAIM_IDLE %q must be a duration of at least 100ms, like 30s", get("HOTLINE_CLAIM_IDLE")))
	}
	if c.EscalationTimeout, err = time.ParseDuration(get("HOTLINE_ESCALATION_TIMEOUT")); err != nil || c.EscalationTimeout < time.Second {
		errs = append(errs, fmt.Errorf("HOTLINE_ESCALATION_TIMEOUT %q must be a duration, like 10m", get("HOTLINE_ESCALATION_TIMEOUT")))
	}
	if c.CaseRetention, err = time.ParseDuration(get("HOTLINE_CASE_RETENTION")); err != nil || c.CaseRetention < time.Hour {
		errs = append(errs, fmt.Errorf("HOTLINE_CASE_RETENTION %q must be a duration of at least 1h, like 168h", get("HOTLINE_CASE_RETENTION")))
	}
	if c.SenderLimit, err = strconv.ParseInt(get("HOTLINE_SENDER_LIMIT"), 10, 64); err != nil || c.SenderLimit < 0 {
		errs = append(errs, fmt.Errorf("HOTLINE_SENDER_LIMIT %q must be a whole number (0 = no limit)", get("HOTLINE_SENDER_LIMIT")))
	}
	if c.ReplyCap, err = strconv.ParseInt(get("HOTLINE_REPLY_CAP"), 10, 64); err != nil || c.ReplyCap < 0 {
		errs = append(errs, fmt.Errorf("HOTLINE_REPLY_CAP %q must be a whole number (0 = no cap)", get("HOTLINE_REPLY_CAP")))
	}
	if c.SendBackoff, err = time.ParseDuration(get("HOTLINE_SEND_BACKOFF")); err != nil || c.SendBackoff < time.Millisecond {
		errs = append(errs, fmt.Errorf("HOTLINE_SEND_BACKOFF %q must be a duration, like 1s", get("HOTLINE_SEND_BACKOFF")))
	}
	if days, err := strconv.Atoi(get("HOTLINE_POLICY_STALE_DAYS")); err != nil || days < 1 || days > 3650 {
		errs = append(errs, fmt.Errorf("HOTLINE_POLICY_STALE_DAYS %q must be a whole number of days from 1 to 3650", get("HOTLINE_POLICY_STALE_DAYS")))
	} else {
		c.PolicyStale = time.Duration(days) * 24 * time.Hour
	}
	if c.WARate, err = strconv.ParseFloat(get("HOTLINE_WA_RATE"), 64); err != nil || c.WARate < 0 || c.WARate > 10000 {
		errs = append(errs, fmt.Errorf("HOTLINE_WA_RATE %q must be a number of messages per second from 0 to 10000", get("HOTLINE_WA_RATE")))
	}
	c.WATemplates = map[string]map[string]string{}
	for _, purpose := range []string{WATemplateAlert, WATemplateReply} {
		for _, lang := range []string{"es", "en"} {
			name := "HOTLINE_WA_TEMPLATE_" + strings.ToUpper(purpose) + "_" + strings.ToUpper(lang)
			sid := get(name)
			if sid == "" {
				continue
			}
			if !contentSID.MatchString(sid) {
				errs = append(errs, fmt.Errorf("%s %q must be a Content SID: HX and 32 hex digits (the template's SID in Twilio's Content Template Builder)", name, sid))
				continue
			}
			if c.WATemplates[purpose] == nil {
				c.WATemplates[purpose] = map[string]string{}
			}
			c.WATemplates[purpose][lang] = sid
		}
	}
	c.MetricsAddr = get("HOTLINE_METRICS_ADDR")
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("HOTLINE_METRICS_ADDR %q must be host:port or :port", c.MetricsAddr))
		}
	}
	c.SpoolDir = get("HOTLINE_SPOOL_DIR")
	if c.SpoolDir == "" {
		c.SpoolDir = filepath.Join(os.TempDir(), "hotline-spool")
	}
	if c.SpoolMaxBytes, err = strconv.ParseInt(get("HOTLINE_SPOOL_MAX_BYTES"), 10, 64); err != nil || c.SpoolMaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("HOTLINE_SPOOL_MAX_BYTES %q must be a number of bytes, at least 1024", get("HOTLINE_SPOOL_MAX_BYTES")))
	}
	switch get("HOTLINE_VOLUNTEER_NAMES") {
	case "first":
		c.VolunteerNames = true
	case "generic":
	default:
		errs = append(errs, fmt.Errorf("HOTLINE_VOLUNTEER_NAMES %q must be first or generic", get("HOTLINE_VOLUNTEER_NAMES")))
	}
	if c.AdminToken != "" && len(c.AdminToken) < 20 {
		errs = append(errs, errors.New("ADMIN_TOKEN must be at least 20 characters"))
	}
	switch f := strings.ToLower(get("LOG_FORMAT")); f {
	case "json":
		c.LogJSON = true
	case "text":
	case "":
		c.LogJSON = !c.Local()
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT %q must be text or json", f))
	}
	if strings.ContainsAny(c.KeyPrefix, "{} ") {
		errs = append(errs, fmt.Errorf("HOTLINE_KEY_PREFIX %q must not contain braces or spaces", c.KeyPrefix))
	}
	for _, u := range []struct{ name, val string }{{"PUBLIC_URL", c.PublicURL}, {"TWILIO_API_BASE", c.APIBase}} {
		if u.val == "" {
			continue
		}
		if p, err := url.Parse(u.val); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q must be an http(s) URL", u.name, u.val))
		}
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, errors.New("REDIS_URL must start with redis:// or rediss://"))
	}
	if c.Local() {
		if c.Secret == "" {
			c.Secret = LocalSecret
		}
		if c.Contact == "" {
			c.Contact = "(HOTLINE_CONTACT)"
		}
	} else {
		for _, req := range []struct{ name, val string }{
			{"PUBLIC_URL", c.PublicURL}, {"TWILIO_ACCOUNT_SID", c.AccountSID},
			{"HOTLINE_SECRET", c.Secret}, {"HOTLINE_CONTACT", c.Contact},
			// An embedded Redis would lose every opt-out at each restart and differ per machine.
			{"REDIS_URL", c.RedisURL},
		} {
			if req.val == "" {
				errs = append(errs, fmt.Errorf("%s is required when TWILIO_AUTH_TOKEN is set", req.name))
			}
		}
		if c.Secret == LocalSecret {
			errs = append(errs, errors.New("HOTLINE_SECRET must not be the local-mode secret"))
		}
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		errs = append(errs, errors.New("HOTLINE_SECRET must be at least 16 characters"))
	}
	return c, errors.Join(errs...)
}
