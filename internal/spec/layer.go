package spec

import (
	"fmt"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// SourceKind says where a layer of answers came from.
type SourceKind int

// Sources of answers, weakest first.
const (
	FromDefault    SourceKind = iota
	FromDeployment            // the deployment's own rcgen.yaml
	FromConfig                // an answers file given to this run
	FromFlag                  // a command-line flag
	FromWizard                // a question the person answered
)

// Origin is where the winning value of one answer came from.
type Origin struct {
	Kind SourceKind
	// Name is the file a file layer was read from.
	Name string
	// Line is the answer's line in that file (0 when not from a file).
	Line int
	// Word is the word the release was given as (latest, lts), resolved
	// to an exact release when read; WordMeaning says what it names.
	Word, WordMeaning string
}

// Origins maps each answer key to the origin of its value. A key that is
// missing took its default.
type Origins map[string]Origin

// Settled reports whether key was given by this run (a flag, --config or
// the wizard), so the wizard does not ask it again.
func (o Origins) Settled(key string) bool {
	k := o[key].Kind
	return k == FromConfig || k == FromFlag || k == FromWizard
}

// Given reports whether key was given by any layer, the deployment's own
// answers file included.
func (o Origins) Given(key string) bool { return o[key].Kind != FromDefault }

// Layer is one set of answers, keyed by the rcgen.yaml keys: an answers
// file, the flags given, or the wizard's answers. Layers merge by key, so a
// layer holds only the answers it gives.
type Layer struct {
	Kind SourceKind
	// Name is the file a file layer was read from.
	Name string
	// Dir is the directory relative paths in this layer are taken from.
	Dir string
	// WrittenBy is the rcgen version that wrote an rcgen.yaml ("" if unknown).
	WrittenBy string
	// values holds each answer as a YAML node: decoded once, when merged.
	values map[string]*yaml.Node
	keys   []string // in the order given
}

// Keys returns the answers the layer gives, in the order given.
func (l Layer) Keys() []string { return l.keys }

// Has reports whether the layer gives key.
func (l Layer) Has(key string) bool { _, ok := l.values[key]; return ok }

// Set adds key with the value it has in a. Flags and the wizard build
// their layers this way.
func (l *Layer) Set(key string, a Answers) {
	var n yaml.Node
	if err := n.Encode(a.Get(key)); err != nil {
		panic(fmt.Sprintf("spec: encoding %s: %v", key, err))
	}
	l.set(key, &n)
}

func (l *Layer) set(key string, n *yaml.Node) {
	if l.values == nil {
		l.values = map[string]*yaml.Node{}
	}
	if _, ok := l.values[key]; !ok {
		l.keys = append(l.keys, key)
	}
	l.values[key] = n
}

// LayerOf returns a layer giving the listed keys with their values in a.
func LayerOf(kind SourceKind, a Answers, keys ...string) Layer {
	l := Layer{Kind: kind}
	for _, k := range keys {
		l.Set(k, a)
	}
	return l
}

// Resolve starts from the defaults and applies layers in order, the later
// winning key by key. Relative paths are taken from the directory of the
// layer that gave them. Each layer was decoded strictly when it was made,
// so merging cannot fail on a type.
func Resolve(layers ...Layer) (Answers, Origins, error) {
	a := Default()
	origins := Origins{}
	for _, l := range layers {
		for _, key := range l.keys {
			f, ok := lookup(key)
			if !ok {
				return a, origins, fmt.Errorf("%s: unknown key %s", l.Name, key)
			}
			n := l.values[key]
			v := a.value(key)
			fresh := Default()
			dst := fresh.value(key)
			if err := n.Decode(dst.Addr().Interface()); err != nil {
				return a, origins, &FieldError{Key: key, Msg: err.Error()}
			}
			if f.path && l.Dir != "" {
				if p := dst.String(); p != "" && !filepath.IsAbs(p) {
					dst.SetString(filepath.Join(l.Dir, p))
				}
			}
			v.Set(dst)
			o := Origin{Kind: l.Kind, Name: l.Name, Line: n.Line}
			if key == KeyVersion {
				resolveVersionWord(&a, &o)
			}
			origins[key] = o
		}
	}
	return a, origins, nil
}
