package broadcast

import (
	"context"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
)

// countingStore answers the preview's counts; any other call would panic (the embedded
// Store is nil), which keeps the test honest about what a preview reads.
type countingStore struct {
	Store
	all, wa map[string]int64
}

func (s countingStore) CountRecipients(_ context.Context, _ []string, lang string) (int64, error) {
	return s.all[lang], nil
}

func (s countingStore) CountWhatsAppRecipients(_ context.Context, _ []string, lang string) (int64, error) {
	return s.wa[lang], nil
}

// TestPreviewLeavesWhatsAppOutOfSMS: recipients on WhatsApp are counted among the
// recipients and apart, and not as SMS segments or SMS cost; the duration is the longer of
// SMS's and WhatsApp's, paced apart.
func TestPreviewLeavesWhatsAppOutOfSMS(t *testing.T) {
	s := New(Config{
		Store:     countingStore{all: map[string]int64{"es": 10, "en": 3}, wa: map[string]int64{"es": 4, "en": 0}},
		Languages: []string{"es", "en"}, Rate: 1, WARate: 0.5, CostPerSegment: 0.01,
	})
	b := hotline.Broadcast{Status: hotline.Draft, Text: map[string]string{
		"es": strings.Repeat("Retén en la calle Central. ", 7), // 189 characters in GSM-7: 2 segments
		"en": "Checkpoint on Central Ave.",
	}}
	p, err := s.Preview(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Recipients["es"] != 10 || p.WhatsApp["es"] != 4 || p.WhatsApp["en"] != 0 {
		t.Errorf("recipients %v, on WhatsApp %v", p.Recipients, p.WhatsApp)
	}
	if p.Segments["es"] != 2 || p.SegmentsTotal != 6*2+3*1 {
		t.Errorf("segments %v, total %d; want 2 for es and 15 in all (SMS recipients only)", p.Segments, p.SegmentsTotal)
	}
	if p.EstimatedCostUSD != 0.15 {
		t.Errorf("cost %v, want 0.15", p.EstimatedCostUSD)
	}
	if p.EstimatedDurationS != 15 {
		t.Errorf("duration %v s; want 15 (SMS: 15 segments at 1/s; WhatsApp: 4 at 0.5/s)", p.EstimatedDurationS)
	}

	s.cfg.WARate = 0.2 // 4 WhatsApp messages now take 20 s, longer than the SMS
	if p, _ := s.Preview(context.Background(), b); p.EstimatedDurationS != 20 {
		t.Errorf("duration %v s; want 20, WhatsApp's", p.EstimatedDurationS)
	}
}
