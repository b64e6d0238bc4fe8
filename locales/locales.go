// Package locales embeds the message files (active.<lang>.toml for members, console.<lang>.toml
// for the staff console), so the binary carries them.
package locales

import "embed"

// FS holds active.en.toml and active.es.toml, channels.en.toml and channels.es.toml (what
// WhatsApp and the voice line say instead, or alone), segments.toml (the messages allowed
// more SMS segments than the budget), and console.en.toml and console.es.toml.
//
//go:embed active.*.toml channels.*.toml segments.toml console.*.toml
var FS embed.FS
