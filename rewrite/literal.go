package rewrite

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Heuristics over literal values of secret-named variables.

var placeholderRe = regexp.MustCompile(`(?i)^(|x+|\*+|-+|\.+|none|null|nil|empty|changeme|change_me|change-me|replaceme|replace_me|placeholder|dummy|dummy.*|fake.*|test|testing|example|sample|secret|password|token|todo|tbd|default|unset|undefined|your.*|guest|admin|root|changeit|minioadmin|airflow|elastic|<.*>|\{\{.*\}\}|\$\{.*\}|\$[A-Za-z_][A-Za-z0-9_]*)$`)

// isPlaceholder is placeholderRe.MatchString(v). An ASCII value is read
// without the regexp (FuzzIsPlaceholder holds the two together); others
// go to it, whose case folding goes beyond ASCII (ſ is an s).
func isPlaceholder(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return placeholderRe.MatchString(v)
		}
	}
	if v == "" || allByte(v, 'x', 'X') || allByte(v, '*', '*') || allByte(v, '-', '-') || allByte(v, '.', '.') {
		return true
	}
	// . is any character but a newline.
	noNewline := func(s string) bool { return strings.IndexByte(s, '\n') < 0 }
	switch n := len(v); {
	case v[0] == '<' && n >= 2 && v[n-1] == '>' && noNewline(v):
		return true
	case strings.HasPrefix(v, "{{") && n >= 4 && strings.HasSuffix(v, "}}") && noNewline(v):
		return true
	case strings.HasPrefix(v, "${") && n >= 3 && v[n-1] == '}' && noNewline(v):
		return true
	case v[0] == '$' && n >= 2 && isShellName(v[1:]):
		return true
	}
	var buf [32]byte
	lower := appendLowerASCII(buf[:0], v)
	if placeholderWords[string(lower)] {
		return true
	}
	for _, p := range []string{"dummy", "fake", "your"} {
		if bytes.HasPrefix(lower, []byte(p)) && noNewline(v) {
			return true
		}
	}
	return false
}

// allByte reports a value made only of the bytes a and b.
func allByte(v string, a, b byte) bool {
	for i := 0; i < len(v); i++ {
		if v[i] != a && v[i] != b {
			return false
		}
	}
	return true
}

// placeholderWords are the whole words of placeholderRe.
var placeholderWords = map[string]bool{
	"none": true, "null": true, "nil": true, "empty": true, "changeme": true, "change_me": true, "change-me": true,
	"replaceme": true, "replace_me": true, "placeholder": true, "dummy": true, "test": true, "testing": true,
	"example": true, "sample": true, "secret": true, "password": true, "token": true, "todo": true, "tbd": true,
	"default": true, "unset": true, "undefined": true, "guest": true, "admin": true, "root": true, "changeit": true,
	"minioadmin": true, "airflow": true, "elastic": true,
}

// looksLikePlaceholder reports values that stand in for a credential:
// dummy, changeme, <your-token>, the variable's own name, or a product's
// well-known default (RabbitMQ's guest, MinIO's minioadmin, Java's
// changeit): reported, but not a secret of the build's.
func looksLikePlaceholder(name, value string) bool {
	v := strings.TrimSpace(value)
	if isPlaceholder(v) {
		return true
	}
	lv := strings.ToLower(v)
	ln := strings.ToLower(name)
	if lv == ln || strings.Contains(ln, lv) || strings.Contains(lv, ln) {
		return true
	}
	// pypi_pass for PYPI_PASS, etc.: made of the name's tokens.
	toks := splitName(v)
	if len(toks) > 0 {
		all := true
		nameToks := map[string]bool{}
		for _, t := range splitName(name) {
			nameToks[t] = true
		}
		for _, t := range toks {
			if !nameToks[t] && !isPlaceholder(t) {
				all = false
			}
		}
		if all {
			return true
		}
	}
	return false
}

// looksLikePath reports values that point at a credential instead of
// holding it.
func looksLikePath(v string) bool {
	if strings.ContainsAny(v, " \t") {
		return false
	}
	return strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") || strings.HasPrefix(v, "file:")
}

var credentialRes = []*regexp.Regexp{
	regexp.MustCompile(`^AKIA[0-9A-Z]{16}$`),
	regexp.MustCompile(`^gh[pousr]_[A-Za-z0-9]{36,}$`),
	regexp.MustCompile(`^github_pat_[A-Za-z0-9_]{22,}$`),
	regexp.MustCompile(`^glpat-[A-Za-z0-9_-]{20,}$`),
	regexp.MustCompile(`^xox[abprs]-[A-Za-z0-9-]{10,}$`),
	regexp.MustCompile(`^npm_[A-Za-z0-9]{36}$`),
	regexp.MustCompile(`^pypi-[A-Za-z0-9_-]{50,}$`),
	regexp.MustCompile(`^AIza[0-9A-Za-z_-]{35}$`),
	regexp.MustCompile(`^sk-[A-Za-z0-9_-]{20,}$`),
	regexp.MustCompile(`^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`),
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
}

// looksLikeCredential reports a literal that is a real credential: a
// well-known token format, or a long random-looking string.
func looksLikeCredential(name, value string) bool {
	v := strings.TrimSpace(value)
	if v == "" || looksLikePlaceholder(name, v) || looksLikePath(v) {
		return false
	}
	for _, re := range credentialRes {
		if re.MatchString(v) {
			return true
		}
	}
	return len(v) >= 16 && !strings.ContainsAny(v, " /") && entropy(v) >= 3.5 && hasMixedClasses(v)
}

func entropy(s string) float64 {
	counts := map[rune]int{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len([]rune(s)))
	for _, c := range counts {
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

func hasMixedClasses(s string) bool {
	var lower, upper, digit bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit} {
		if b {
			n++
		}
	}
	return n >= 2
}

var settingValueRe = regexp.MustCompile(`(?i)^(true|false|yes|no|on|off|enabled|disabled|none|[0-9]+(\.[0-9]+)?[smhdwy]?|[0-9]+(ms|min|mins|minutes|hours|days))$`)

// isSettingValue reports values that make a secret-named variable a
// setting rather than a secret: booleans, numbers, durations.
func isSettingValue(v string) bool {
	return settingValueRe.MatchString(strings.Trim(strings.TrimSpace(v), `"'`))
}

// appendLowerASCII appends s to dst with its ASCII upper-case letters
// lowered (other bytes as they are): into a buffer on the caller's stack,
// no allocation for a short s.
func appendLowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
