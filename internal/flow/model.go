package flow

import (
	"crypto/sha256"
	"io/fs"
	"path"
	"sync"

	"github.com/communityhotline/hotline/internal/understand"
)

// models remembers the model built from each set of examples, by a hash of their files: the
// same examples always build the same model, and tests and the check load the shipped flows
// many times over.
var models = struct {
	sync.Mutex
	m map[[32]byte]*understand.Model
}{m: map[[32]byte]*understand.Model{}}

// loadModel builds the model from the examples in fsys, or returns nil when there are none.
func loadModel(fsys fs.FS) (*understand.Model, Problems) {
	names, err := fs.Glob(fsys, path.Join(IntentsDir, "*.toml"))
	if err != nil || len(names) == 0 {
		return nil, nil
	}
	h := sha256.New()
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, Problems{{File: name, Msg: err.Error()}}
		}
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(data)
		h.Write([]byte{0})
	}
	var key [32]byte
	h.Sum(key[:0])
	models.Lock()
	defer models.Unlock()
	if m, ok := models.m[key]; ok {
		return m, nil
	}
	ex, err := understand.LoadExamples(fsys, IntentsDir)
	if err != nil {
		return nil, Problems{{File: IntentsDir, Msg: err.Error()}}
	}
	cues, err := understand.LoadCues(fsys, IntentsDir)
	if err != nil {
		return nil, Problems{{File: path.Join(IntentsDir, understand.CuesFile), Msg: err.Error()}}
	}
	m := understand.New(ex, cues)
	models.m[key] = m
	return m, nil
}
