package staff

import "time"

// OrganizerView is an organizer as the admin API and the console show them: the phone masked
// to its last 4 digits.
type OrganizerView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Lang  string `json:"lang"`
	// WhatsApp is set when a WhatsApp address is linked to the phone (Linker).
	WhatsApp  bool      `json:"whatsapp"`
	CreatedAt time.Time `json:"created_at"`
	// Token is the organizer's API token, shown only when they are added.
	Token string `json:"token,omitempty"`
}

// VolunteerView is a volunteer as the admin API and the console show them: the phone masked.
type VolunteerView struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Phone     string   `json:"phone"`
	Languages []string `json:"languages"`
	OnCall    bool     `json:"on_call"`
	// WhatsApp is set when a WhatsApp address is linked to the phone (Linker).
	WhatsApp  bool      `json:"whatsapp"`
	CreatedAt time.Time `json:"created_at"`
}
