// Package locales embeds the message files (active.<lang>.toml), so the binary carries them.
package locales

import "embed"

// FS holds active.en.toml and active.es.toml.
//
//go:embed active.*.toml
var FS embed.FS
