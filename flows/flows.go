// Package flows embeds the conversation flows (*.toml) and their data (data/*.toml), so the
// binary carries them; `go:embed` cannot reach outside this folder.
package flows

import "embed"

// FS holds every flow file, keywords.toml, and data/.
//
//go:embed *.toml data
var FS embed.FS
