// Package locales embeds the message files (active.<lang>.toml), so the binary carries them.
package locales

import "embed"

// FS holds active.en.toml and active.es.toml, and segments.toml (the messages allowed more
// SMS segments than the budget).
//
//go:embed active.*.toml segments.toml
var FS embed.FS
