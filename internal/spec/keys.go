package spec

import (
	"reflect"
	"strings"
	"sync"
)

// field is one answer of the field list, found by reflection on Answers.
type field struct {
	key   string
	index int
	path  bool // a file path, relative to the layer that gives it
}

var fieldList = sync.OnceValue(func() []field {
	var fs []field
	t := reflect.TypeFor[Answers]()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		key, _, _ := strings.Cut(tag, ",")
		if key == "" || key == "-" {
			continue
		}
		fs = append(fs, field{key: key, index: i, path: t.Field(i).Tag.Get("rcgen") == "path"})
	}
	return fs
})

// Keys returns every answer's key, in the order of the field list.
func Keys() []string {
	var ks []string
	for _, f := range fieldList() {
		ks = append(ks, f.key)
	}
	return ks
}

// IsKey reports whether key names an answer.
func IsKey(key string) bool {
	_, ok := lookup(key)
	return ok
}

func lookup(key string) (field, bool) {
	for _, f := range fieldList() {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// value returns the settable field of a that key names.
func (a *Answers) value(key string) reflect.Value {
	f, ok := lookup(key)
	if !ok {
		panic("spec: no answer " + key)
	}
	return reflect.ValueOf(a).Elem().Field(f.index)
}

// Get returns the value of the answer key.
func (a Answers) Get(key string) any { return a.value(key).Interface() }

// Suggest returns the answers-file key a misspelled key most likely
// means, for "did you mean": the key written as a flag is (dashes, upper
// case), or the key within a few edits of it (two, or a quarter of its
// length for longer keys). ok is false when no key is that close.
func Suggest(key string) (suggestion string, ok bool) {
	norm := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	best, bestD := "", -1
	for _, k := range append([]string{"version"}, Keys()...) {
		if d := editDistance(norm, k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= max(2, len(best)/4) {
		return best, true
	}
	return "", false
}

// editDistance is the Levenshtein distance between a and b, in bytes
// (keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
