package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FileName is the answers file rcgen writes into every deployment.
const FileName = "rcgen.yaml"

// FileVersion is the version of the answers file format.
const FileVersion = 1

// LineError is a problem at a line of an answers file.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg) }

// ParseFile reads an answers file (rcgen.yaml's schema) into a layer whose
// relative paths are taken from dir. Every unknown key (with the key it
// most likely means), wrong type and repeated key is reported at once,
// each with its line. The layer holds every answer that did decode, even
// with an error: the caller checks their values too (CheckKey, Validate),
// so a misspelled key never hides a bad value beside it.
func ParseFile(name string, b []byte, dir string) (Layer, error) {
	l := Layer{Kind: FromConfig, Name: name, Dir: dir}
	if len(bytes.TrimSpace(b)) == 0 {
		return l, fmt.Errorf("%s: is empty: an answers file starts with \"version: %d\"", name, FileVersion)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return l, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return l, fmt.Errorf("%s: holds more than one YAML document: keep one", name)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return l, fmt.Errorf("%s: line %d: is not a mapping of answers: write one \"key: value\" per line, starting with \"version: %d\"", name, root.Line, FileVersion)
	}
	var errs []error
	bad := func(line int, format string, a ...any) {
		errs = append(errs, &LineError{File: name, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	version := 0
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		switch {
		case key == "written_by":
			l.WrittenBy = v.Value // the rcgen that last wrote the file
			continue
		case key == "version":
			if v.Decode(&version) != nil {
				bad(v.Line, "version %q is not a number: write \"version: %d\"", v.Value, FileVersion)
				version = -1
			}
			continue
		case !IsKey(key):
			if s, ok := Suggest(key); ok {
				bad(k.Line, "unknown key %s: did you mean %s?", key, s)
			} else {
				bad(k.Line, "unknown key %s: the keys are %s", key, strings.Join(Keys(), ", "))
			}
			continue
		case l.Has(key):
			bad(k.Line, "%s is given twice: keep one", key)
			continue
		}
		scratch := Default()
		dst := scratch.value(key)
		if err := v.Decode(dst.Addr().Interface()); err != nil {
			bad(v.Line, "%s: %s", key, decodeError(err, v, dst.Kind()))
			continue
		}
		l.set(key, v)
	}
	if version != FileVersion && version != -1 {
		errs = append(errs, fmt.Errorf("%s: version %d is not supported: this rcgen reads version %d (write \"version: %d\" at the top)", name, version, FileVersion, FileVersion))
	}
	return l, errors.Join(errs...)
}

// decodeError says what is wrong with a value of the wrong type, in
// rcgen's words rather than yaml.v3's.
func decodeError(err error, v *yaml.Node, kind reflect.Kind) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	if v.Kind != yaml.ScalarNode {
		return "is not a single value: write it on the key's line, e.g. key: value"
	}
	switch kind {
	case reflect.Int:
		return fmt.Sprintf("%q is not a whole number", v.Value)
	case reflect.Bool:
		return fmt.Sprintf("%q is not true or false", v.Value)
	}
	return fmt.Sprintf("%q is not text: quote it", v.Value)
}

// Marshal writes the answers as rcgen.yaml, with a header saying what it is.
// Every answer is written, defaults included, so the file alone reproduces
// the deployment; optional answers only when given. The licence itself is
// a secret kept in .env; only the path it was read from is recorded.
func Marshal(a Answers, rcgenVersion string) []byte {
	if !a.Monitoring {
		// Retention means nothing without Prometheus.
		a.MetricsRetention, a.MetricsRetentionSize = "", ""
	}
	if !a.Logs {
		// Retention means nothing without Loki. (logs itself is kept
		// without monitoring: it is what turning monitoring back on brings.)
		a.LogsRetention = ""
	}
	var n yaml.Node
	if err := n.Encode(a); err != nil {
		panic(fmt.Sprintf("spec: encoding the answers: %v", err))
	}
	version := []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "version"},
		{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(FileVersion)},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "written_by"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: rcgenVersion},
	}
	n.Content = append(version, n.Content...)
	for i := 3; i < len(n.Content); i += 2 {
		if v := n.Content[i]; v.Tag == "!!str" {
			v.Style = yaml.DoubleQuotedStyle
		} else if v.Kind == yaml.SequenceNode {
			for _, e := range v.Content {
				e.Style = yaml.DoubleQuotedStyle
			}
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# rcgen answers file, written by rcgen %s. It holds the answers, not\n", rcgenVersion)
	b.WriteString("# secrets: rcgen reads it again on the next run in this directory, and\n")
	b.WriteString("# `rcgen generate --config rcgen.yaml` reproduces the deployment elsewhere.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		panic(fmt.Sprintf("spec: writing the answers: %v", err))
	}
	_ = enc.Close()
	return b.Bytes()
}
