// Package locales embeds the message files (active.<lang>.toml for members, console.<lang>.toml
// for the staff console), so the binary carries them.
package locales

import "embed"

// FS holds active.en.toml and active.es.toml, segments.toml (the messages allowed more SMS
// segments than the budget), and console.en.toml and console.es.toml.
//
//go:embed active.*.toml segments.toml console.*.toml
var FS embed.FS
