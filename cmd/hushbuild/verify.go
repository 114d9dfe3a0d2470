package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/hushbuild/hushbuild/secretscan"
	"github.com/hushbuild/hushbuild/verify"
	"github.com/spf13/cobra"
)

func init() { register(newVerifyCommand) }

const verifyHelp = `
Searches IMAGE for the secrets the build used and for credential patterns,
in every place an image keeps data: the index and every manifest of every
platform, image configs (env, labels, entrypoint, cmd, history), every
layer's file names and contents (files deleted by a later layer included),
attestations (provenance, SBOM) and annotations.

IMAGE is an OCI image layout directory, an OCI or 'docker save' archive
(.tar, possibly gzip- or zstd-compressed), - for such an archive on
standard input ('docker save app | hushbuild verify -'), an image of the
local Docker daemon (docker-daemon:NAME, read through its API socket,
DOCKER_HOST or /var/run/docker.sock, as 'docker save' would export it), or
a reference. A reference is read from the Docker daemon when the daemon
runs and has an image of that name, else from its registry (plain HTTP for
loopback registries such as 127.0.0.1:5000); --source docker or --source
registry picks one, and the report says which was read.
A name that does not exist but looks like a path (it starts with / or .,
ends in .tar, .tar.gz, .tgz, .tar.zst or .oci, or has a / with no registry
host before it, as out/image) is a missing file, never a reference: name
Docker Hub images with their registry (docker.io/org/app).

--platform scans only the images of those platforms, whatever the input
(an image's platform is its index descriptor's, else its config's, so
'docker save' archives and single manifests are filtered too).

Known values are given the way the build got them:

    --secret id=PYPI_PASS                  the variable PYPI_PASS, else the file PYPI_PASS
    --secret id=PYPI_PASS,env=PASS_VAR     the variable PASS_VAR
    --secret id=my_env,src=.env            the file .env, and each credential-like
                                           value in it (.env lines, .netrc, .npmrc,
                                           .pypirc, .git-credentials, config.json)

and are matched raw, base64-encoded, URL-encoded and JSON-escaped. Values
shorter than 6 bytes are not searched (a note says so). Pattern rules
(private keys, URL passwords, AWS/GitHub/GitLab/Slack/npm/PyPI/Google
tokens, JWTs, credential files) run unless --patterns=false.

Each hit says where it is (platform, blob, layer, file, history entry,
attestation field) and which secret id or rule matched, never the value.

The report says "clean" only when the scan read the whole image, read
something and found nothing, and then says what it read (manifests,
blobs, layers, files, bytes, platforms). A scan that fails part-way says
INCOMPLETE instead, in every format (JSON "error", SARIF
executionSuccessful false).

Exit status: 0 when the image is clean, 1 when something is found, 2 on
usage errors, when the image could not be fully read (missing file,
corrupt archive, truncated layer, missing blob...), or when the scan read
nothing: no image for a requested platform, an image without a layer or
whose layers hold no file.`

type verifyOptions struct {
	secretSpecs, valueFiles []string
	rules, plats            listFlag
	patterns, listRules     bool
	format, output          string
	plainHTTP               bool
	source                  string
}

// verifyFormats are the report formats of verify.
var verifyFormats = []string{"text", "json", "sarif"}

func newVerifyCommand(s stdio) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [flags] IMAGE",
		Short: "prove that a built image carries no secret: search it for the build's secrets and credential patterns",
		Long:  verifyHelp,
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.secretSpecs, "secret", nil, "a known secret, as buildx takes its `spec`: id=ID[,env=VAR|,src=FILE] (repeatable)")
	fl.StringArrayVar(&o.valueFiles, "value-file", nil, "a `file` of known values to search, one per line, reported as FILE:LINE (repeatable)")
	fl.BoolVar(&o.patterns, "patterns", true, "run the credential pattern rules")
	fl.Var(&o.rules, "rules", "run only these pattern `rules`, comma-separated (repeatable; see --list-rules)")
	fl.BoolVar(&o.listRules, "list-rules", false, "list the pattern rules and exit")
	fl.Var(&o.plats, "platform", "scan only the images of these `platforms` (os/arch[/variant]), comma-separated (repeatable)")
	fl.StringVar(&o.format, "format", "text", "output `format`: "+orList(verifyFormats))
	fl.StringVarP(&o.output, "output", "o", "", "write the report to `file` instead of stdout")
	fl.BoolVar(&o.plainHTTP, "plain-http", false, "talk plain HTTP to any registry (loopback registries always are)")
	fl.StringVar(&o.source, "source", "auto", "the `source` of a reference: auto (the Docker daemon when it has the image, else the registry), docker or registry")
	completeValues(cmd, "source", "auto", verify.SourceDocker, verify.SourceRegistry)
	completeValues(cmd, "format", verifyFormats...)
	_ = cmd.RegisterFlagCompletionFunc("rules", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var ids []cobra.Completion
		for _, r := range secretscan.Rules() {
			ids = append(ids, cobra.CompletionWithDesc(r.ID, r.Description))
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.RunE = runWith(func(ctx context.Context, cmd *cobra.Command, args []string) int {
		return runVerify(ctx, cmd, args, s, o)
	})
	return cmd
}

func runVerify(ctx context.Context, cmd *cobra.Command, images []string, s stdio, o *verifyOptions) int {
	secretSpecs, valueFiles, rules, plats := o.secretSpecs, o.valueFiles, o.rules, o.plats
	listRules, patterns, format, output, plainHTTP := &o.listRules, &o.patterns, &o.format, &o.output, &o.plainHTTP
	if *listRules {
		for _, r := range secretscan.Rules() {
			fmt.Fprintf(s.out, "%-22s %s\n", r.ID, r.Description)
		}
		return exitOK
	}
	if len(images) != 1 {
		return usageErrorf(cmd, s, "want exactly one IMAGE, got %d", len(images))
	}
	if !slices.Contains(verifyFormats, *format) {
		return usageErrorf(cmd, s, "--format %q: want %s", *format, orList(verifyFormats))
	}
	var ruleIDs []string
	for _, id := range rules {
		if _, ok := secretscan.LookupRule(id); !ok {
			return usageErrorf(cmd, s, "--rules: unknown rule %q (see --list-rules)", id)
		}
		ruleIDs = append(ruleIDs, id)
	}

	source := o.source
	switch source {
	case "auto":
		source = verify.SourceAuto
	case verify.SourceDocker, verify.SourceRegistry:
	default:
		return usageErrorf(cmd, s, "--source %q: want auto, docker or registry", o.source)
	}
	opts := verify.Options{Image: images[0], Stdin: s.in, Patterns: *patterns, Platforms: plats, PlainHTTP: *plainHTTP, Source: source}
	if ruleIDs != nil {
		opts.Rules = ruleIDs
	}
	var specs []verify.SecretSpec
	for _, spec := range secretSpecs {
		sp, err := verify.ParseSecretSpec(spec)
		if err != nil {
			return usageErrorf(cmd, s, "%v", err)
		}
		specs = append(specs, sp)
	}
	// Together: a secret that is a keystore may open with another's value
	// as its password.
	secrets, notes, lerr := verify.LoadSecretSpecs(specs, os.LookupEnv)
	if lerr != nil {
		return usageErrorf(cmd, s, "%v", lerr)
	}
	opts.Secrets = append(opts.Secrets, secrets...)
	for _, f := range valueFiles {
		secrets, err := readValueFile(f)
		if err != nil {
			return usageErrorf(cmd, s, "--value-file: %v", err)
		}
		opts.Secrets = append(opts.Secrets, secrets...)
	}
	if len(opts.Secrets) == 0 && !opts.Patterns {
		return usageErrorf(cmd, s, "nothing to look for: give --secret or --value-file, or leave --patterns on")
	}

	rep, scanErr := verify.Scan(ctx, opts)
	rep.Notes = append(notes, rep.Notes...)
	var out bytes.Buffer
	var err error
	switch *format {
	case "text":
		err = rep.WriteText(&out)
	case "json":
		err = rep.WriteJSON(&out)
	case "sarif":
		err = rep.WriteSARIF(&out, version())
	}
	if err == nil {
		if *output != "" {
			err = os.WriteFile(*output, out.Bytes(), 0o644)
		} else {
			_, err = s.out.Write(out.Bytes())
		}
	}
	if err != nil {
		fmt.Fprintf(s.err, "hushbuild verify: %v\n", err)
		return exitUsage
	}
	if scanErr != nil || rep.Error != "" {
		// The report says INCOMPLETE, never clean.
		msg := rep.Error
		if scanErr != nil {
			msg = scanErr.Error()
		}
		for _, l := range strings.Split(msg, "\n") {
			fmt.Fprintf(s.err, "hushbuild verify: %s\n", l)
		}
		fmt.Fprintf(s.err, "hushbuild verify: the scan is incomplete: it proves nothing about the image\n")
		return exitUsage
	}
	if !rep.Clean() {
		return exitFindings
	}
	return exitOK
}

// readValueFile reads known values, one per line.
func readValueFile(name string) ([]verify.Secret, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []verify.Secret
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if v := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(v) != "" {
			out = append(out, verify.Secret{ID: name + ":" + strconv.Itoa(n), Value: v})
		}
	}
	return out, sc.Err()
}
