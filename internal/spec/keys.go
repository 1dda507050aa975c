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
