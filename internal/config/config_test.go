package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLocalDefaults(t *testing.T) {
	c, err := Parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Local() || c.Port != 8080 || c.KeyPrefix != "hotline" || c.Secret != LocalSecret ||
		c.ConversationTTL != 720*time.Hour || c.GSM || c.SegmentBudget != 3 || c.LogJSON || c.PolicyStale != 60*24*time.Hour {
		t.Errorf("local defaults = %+v", c)
	}
}

func TestTwilioModeRequiresSettings(t *testing.T) {
	_, err := Parse(env(map[string]string{"TWILIO_AUTH_TOKEN": "tok"}))
	if err == nil {
		t.Fatal("accepted Twilio mode without its settings")
	}
	for _, name := range []string{"PUBLIC_URL", "TWILIO_ACCOUNT_SID", "HOTLINE_SECRET", "HOTLINE_CONTACT", "REDIS_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	c, err := Parse(env(map[string]string{
		"TWILIO_AUTH_TOKEN": "tok", "PUBLIC_URL": "https://x.example/", "TWILIO_ACCOUNT_SID": "AC1",
		"HOTLINE_SECRET": "0123456789abcdef", "HOTLINE_CONTACT": "505-000-0000", "HOTLINE_SMS_ENCODING": "GSM",
		"REDIS_URL": "redis://127.0.0.1:6379/0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Local() || c.PublicURL != "https://x.example" || !c.GSM || !c.LogJSON {
		t.Errorf("parsed %+v", c)
	}
}

// TestRetiredSealingSecret: "-" keeps a removed sealing secret's place in the list.
func TestRetiredSealingSecret(t *testing.T) {
	c, err := Parse(env(map[string]string{"HOTLINE_SEALING_SECRETS": "- , a sealing secret long enough"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"-", "a sealing secret long enough"}; strings.Join(c.SealingSecrets, "|") != strings.Join(want, "|") {
		t.Errorf("sealing secrets = %q, want %q", c.SealingSecrets, want)
	}
}

func TestBadValues(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"port":     {"PORT": "http"},
		"ttl":      {"HOTLINE_CONVERSATION_TTL": "5m"},
		"encoding": {"HOTLINE_SMS_ENCODING": "ascii"},
		"prefix":   {"HOTLINE_KEY_PREFIX": "a{b}"},
		"redis":    {"REDIS_URL": "localhost:6379"},
		"url":      {"PUBLIC_URL": "x.fly.dev"},
		"secret":   {"HOTLINE_SECRET": "short"},
		"budget":   {"HOTLINE_SEGMENT_BUDGET": "0"},
		"cluster":  {"REDIS_CLUSTER": "maybe"},
		"sealing":  {"HOTLINE_SEALING_SECRETS": "short"},
		"retired":  {"HOTLINE_SEALING_SECRETS": "a sealing secret long enough,-"},
		"stale":    {"HOTLINE_POLICY_STALE_DAYS": "0"},
		"stale2":   {"HOTLINE_POLICY_STALE_DAYS": "60d"},
		"wa rate":  {"HOTLINE_WA_RATE": "-1"},
		"wa sid":   {"HOTLINE_WA_TEMPLATE_ALERT_ES": "MG0123456789abcdef0123456789abcdef"},
		"wa short": {"HOTLINE_WA_TEMPLATE_REPLY_EN": "HX0123"},
	} {
		if _, err := Parse(env(m)); err == nil {
			t.Errorf("%s: accepted %v", name, m)
		}
	}
}

// TestREADMEListsEverySetting keeps the README's settings table in step with the code.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		if !strings.Contains(string(readme), "| `"+s.Name+"` |") {
			t.Errorf("README.md's settings table lacks %s", s.Name)
		}
	}
}

// TestWhatsAppSettings: template SIDs are read per purpose and language, a default rate of
// 20 a second, and none configured is no template at all.
func TestWhatsAppSettings(t *testing.T) {
	c, err := Parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.WARate != 20 || len(c.WATemplates) != 0 {
		t.Errorf("defaults: rate %v, templates %v", c.WARate, c.WATemplates)
	}
	alertES, replyEN := "HX0123456789abcdef0123456789abcdef", "HXFEDCBA9876543210FEDCBA9876543210"
	c, err = Parse(env(map[string]string{"HOTLINE_WA_RATE": "5", "HOTLINE_WA_TEMPLATE_ALERT_ES": alertES, "HOTLINE_WA_TEMPLATE_REPLY_EN": " " + replyEN + " "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WARate != 5 || c.WATemplates[WATemplateAlert]["es"] != alertES || c.WATemplates[WATemplateReply]["en"] != replyEN ||
		c.WATemplates[WATemplateAlert]["en"] != "" || c.WATemplates[WATemplateReply]["es"] != "" {
		t.Errorf("parsed rate %v, templates %v", c.WARate, c.WATemplates)
	}
}
