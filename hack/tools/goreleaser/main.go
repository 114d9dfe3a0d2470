// Command goreleaser-config checks GoReleaser configuration files with
// GoReleaser's own configuration code (github.com/goreleaser/goreleaser/v2
// pkg/config), without building GoReleaser itself (hack/README.md,
// "Releasing", says why):
//
//	goreleaser-config FILE...
//
// A file fails when it is not `version: 2`, when the strict load GoReleaser
// does first rejects it (an unknown or misspelt key, a value of the wrong
// type), or when it sets a key GoReleaser marks deprecated. Each problem is
// printed as FILE: message; the exit status is 1 when any file fails.
package main

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/goreleaser/goreleaser/v2/pkg/config"
	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: goreleaser-config FILE...")
		os.Exit(2)
	}
	failed := false
	for _, name := range os.Args[1:] {
		problems, err := check(name)
		if err != nil {
			problems = append(problems, err.Error())
		}
		for _, p := range problems {
			fmt.Printf("%s: %s\n", name, p)
		}
		failed = failed || len(problems) > 0
	}
	if failed {
		os.Exit(1)
	}
}

// check returns the problems of one configuration file.
func check(name string) ([]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var problems []string
	var versioned config.Versioned
	if err := yaml.Unmarshal(data, &versioned); err != nil {
		return nil, err
	}
	if versioned.Version != 2 {
		problems = append(problems, fmt.Sprintf("version is %d: GoReleaser v2 reads only `version: 2`", versioned.Version))
	}
	if _, err := config.LoadReader(bytes.NewReader(data)); err != nil {
		problems = append(problems, "invalid: "+err.Error())
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return problems, err
	}
	if len(doc.Content) == 1 {
		deprecated(doc.Content[0], reflect.TypeFor[config.Project](), "", &problems)
	}
	return problems, nil
}

// deprecated walks node along the type it decodes into and reports each
// key whose field GoReleaser marks deprecated (jsonschema:"deprecated=true").
func deprecated(node *yaml.Node, t reflect.Type, path string, problems *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && node.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i].Value, node.Content[i+1]
			f, ok := fields[key]
			if !ok {
				continue // the strict load reports it
			}
			p := key
			if path != "" {
				p = path + "." + key
			}
			if strings.Contains(f.Tag.Get("jsonschema"), "deprecated=true") {
				*problems = append(*problems, fmt.Sprintf("line %d: %s is deprecated in GoReleaser (see its comment in pkg/config)", node.Content[i].Line, p))
			}
			deprecated(value, f.Type, p, problems)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && node.Kind == yaml.SequenceNode:
		for i, item := range node.Content {
			deprecated(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems)
		}
	case t.Kind() == reflect.Map && node.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			deprecated(node.Content[i+1], t.Elem(), path+"."+node.Content[i].Value, problems)
		}
	}
}

// yamlFields maps the YAML keys of struct t to its fields, inlined
// structs included.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}
