// Package auth tests the real `stepwell serve` binary's authentication and
// TLS with the clients people use: the AWS SDK for Go v2, the AWS CLI and
// boto3. Each must work with a configured access key and fail with AWS's
// error types for no signature, an unknown key, a wrong secret and an
// expired date; a server on a non-loopback address without credentials
// must refuse to start; TLS must work with the AWS CLI and a CA bundle.
//
// The AWS CLI cases need `aws` (/usr/bin/aws, else on PATH) and the boto3
// cases a python3 that imports boto3; without them they are skipped,
// unless STEPWELL_REQUIRE_AWSCLI=1 or STEPWELL_REQUIRE_BOTO3=1 makes that a
// failure. Clients sign with their own clock: the expired cases set it 20
// minutes back (a custom signer for the SDK, a sitecustomize for Python).
package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The keys of the credentials file the servers use.
const (
	keyID    = "AKIDSTEPWELLE2E0001"
	secret   = "e2e/secret+key"
	roKeyID  = "AKIDSTEPWELLE2EREAD"
	roSecret = "read-only-secret"
)

var (
	bin       string // the stepwell binary
	workDir   string
	credsFile string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "stepwell-auth-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	workDir = dir
	bin = filepath.Join(dir, "stepwell")
	build := exec.Command("go", "build", "-o", bin, "./cmd/stepwell")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "auth: build stepwell:", err)
		return 1
	}
	credsFile = filepath.Join(dir, "credentials.json")
	creds := fmt.Sprintf(`{"accessKeys": [
		{"accessKeyId": %q, "secretAccessKey": %q, "name": "e2e"},
		{"accessKeyId": %q, "secretAccessKey": %q, "name": "viewer", "readOnly": true}]}`, keyID, secret, roKeyID, roSecret)
	if err := os.WriteFile(credsFile, []byte(creds), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
		return 1
	}
	return m.Run()
}

var listeningRE = regexp.MustCompile(`listening on (https?://\S+)`)

// serve starts `stepwell serve` with args (and a memory store) and returns
// its URL; the server is stopped when the test ends.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--store", "memory"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				addr <- m[1]
			}
		}
		if !found {
			close(addr)
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		waited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
	})
	select {
	case a, ok := <-addr:
		if !ok {
			<-done
			t.Fatalf("stepwell serve %v exited before listening:\n%s", args, log.String())
		}
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("stepwell serve %v did not print its address", args)
	}
	return ""
}

// sdkClient is an SDK client of url signing with id and secret (no
// retries), with opts.
func sdkClient(url, id, key string, opts ...func(*sfn.Options)) *sfn.Client {
	return sfn.New(sfn.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, key, ""),
	}, opts...)
}

// skewedSigner signs as the SDK does, with a clock off by skew.
type skewedSigner struct{ skew time.Duration }

func (s skewedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, t.Add(s.skew), opts...)
}

// refusals are the cases every client must be refused in, with AWS's
// error type and (the start of) its message.
var refusals = []struct {
	name, code, message string
}{
	{"no signature", "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
	{"unknown key", "UnrecognizedClientException", "The security token included in the request is invalid."},
	{"wrong secret", "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."},
	{"expired date", "InvalidSignatureException", "Signature expired: "},
}

func TestSDK(t *testing.T) {
	url := serve(t, "--addr", "127.0.0.1:0", "--credentials", credsFile)
	ctx := context.Background()
	c := sdkClient(url, keyID, secret)
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("hello"), RoleArn: aws.String("arn:aws:iam::123456789012:role/r"),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"hi","End":true}}}`),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine with a configured key: %v", err)
	}
	if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn}); err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	clients := map[string]*sfn.Client{
		"no signature": sdkClient(url, "", "", func(o *sfn.Options) { o.Credentials = aws.AnonymousCredentials{} }),
		"unknown key":  sdkClient(url, "AKIDNOBODY", secret),
		"wrong secret": sdkClient(url, keyID, "not-the-secret"),
		"expired date": sdkClient(url, keyID, secret, func(o *sfn.Options) { o.HTTPSignerV4 = skewedSigner{-20 * time.Minute} }),
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			_, err := clients[r.name].ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
			var ae smithy.APIError
			var re *smithyhttp.ResponseError
			if !errors.As(err, &ae) || !errors.As(err, &re) {
				t.Fatalf("not an API error: %v", err)
			}
			if ae.ErrorCode() != r.code || !strings.HasPrefix(ae.ErrorMessage(), r.message) || re.HTTPStatusCode() != http.StatusBadRequest {
				t.Fatalf("got %s (HTTP %d) %q; want %s (HTTP 400) %q", ae.ErrorCode(), re.HTTPStatusCode(), ae.ErrorMessage(), r.code, r.message)
			}
		})
	}
	// Behind a proxy the Host is the public name the client signed: a
	// signed request is served whatever its Host (the rebinding check is
	// for servers without credentials).
	t.Run("signed for a proxy's name", func(t *testing.T) {
		body := `{}`
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Host = "stepwell.example.com"
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, req,
			hex.EncodeToString(sum[:]), "states", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	})
	t.Run("read-only key", func(t *testing.T) {
		ro := sdkClient(url, roKeyID, roSecret)
		if _, err := ro.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn}); err != nil {
			t.Fatalf("describe: %v", err)
		}
		_, err := ro.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
			t.Fatalf("StartExecution with a read-only key: %v", err)
		}
	})
}

// TestRefusesNonLoopbackWithoutCredentials: on every interface the server
// needs credentials, or an explicit --auth none.
func TestRefusesNonLoopbackWithoutCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--store", "memory", "--addr", "0.0.0.0:0")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v, want code 2\n%s", err, out)
	}
	if !strings.Contains(string(out), `addr "0.0.0.0:0": is not a loopback address, and the server has no credentials`) {
		t.Fatalf("output:\n%s", out)
	}
	// With credentials, or --auth none, it starts.
	serve(t, "--addr", "0.0.0.0:0", "--credentials", credsFile)
	serve(t, "--addr", "0.0.0.0:0", "--auth", "none")
}

// TestLoopbackWithoutCredentials: the local development default, as
// before: no credentials, any signature (or none) is served.
func TestLoopbackWithoutCredentials(t *testing.T) {
	url := serve(t, "--addr", "127.0.0.1:0")
	ctx := context.Background()
	for _, c := range []*sfn.Client{
		sdkClient(url, "anything", "goes"),
		sdkClient(url, "", "", func(o *sfn.Options) { o.Credentials = aws.AnonymousCredentials{} }),
	} {
		if _, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil {
			t.Fatalf("ListStateMachines: %v", err)
		}
	}
	// A page reaching the server by a name it rebinds to 127.0.0.1 is
	// refused (DNS rebinding).
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	req.Host = "attacker.example.com"
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("foreign Host: HTTP %d", resp.StatusCode)
	}
}

// awsCLI returns the AWS CLI to use, or skips.
func awsCLI(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/aws", "aws"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("STEPWELL_REQUIRE_AWSCLI") == "1" {
		t.Fatal("the AWS CLI is not installed (apt-get install awscli)")
	}
	t.Skip("skipped: the AWS CLI is not installed (apt-get install awscli; STEPWELL_REQUIRE_AWSCLI=1 makes this a failure)")
	return ""
}

// skewedPython is a PYTHONPATH whose sitecustomize sets Python's clock 20
// minutes back, for the clients written in Python.
func skewedPython(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "skewed")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	const src = `import datetime as _dt
class _Skewed(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return super().now(tz) - _dt.timedelta(minutes=20)
    @classmethod
    def utcnow(cls):
        return super().utcnow() - _dt.timedelta(minutes=20)
_dt.datetime = _Skewed
`
	if err := os.WriteFile(filepath.Join(dir, "sitecustomize.py"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// clientEnv is the environment of a CLI or boto3 run: only the given
// credentials, no configuration files, no retries.
func clientEnv(id, key string, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + workDir, "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard"}
	if id != "" {
		env = append(env, "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+key)
	}
	return append(env, extra...)
}

// cli runs the AWS CLI's stepfunctions command against url and returns
// its output and whether it succeeded.
func cli(t *testing.T, aws, url string, env []string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, aws, append([]string{"stepfunctions", "--endpoint-url", url}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestAWSCLI(t *testing.T) {
	aws := awsCLI(t)
	url := serve(t, "--addr", "127.0.0.1:0", "--credentials", credsFile)
	out, ok := cli(t, aws, url, clientEnv(keyID, secret), "create-state-machine", "--name", "cli",
		"--role-arn", "arn:aws:iam::123456789012:role/r", "--definition", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	if !ok || !strings.Contains(out, "stateMachineArn") {
		t.Fatalf("create-state-machine with a configured key:\n%s", out)
	}
	if out, ok := cli(t, aws, url, clientEnv(keyID, secret), "list-state-machines"); !ok || !strings.Contains(out, `"cli"`) {
		t.Fatalf("list-state-machines:\n%s", out)
	}
	runs := map[string]struct {
		env  []string
		args []string
	}{
		"no signature": {clientEnv("", ""), []string{"--no-sign-request"}},
		"unknown key":  {clientEnv("AKIDNOBODY", secret), nil},
		"wrong secret": {clientEnv(keyID, "not-the-secret"), nil},
		"expired date": {clientEnv(keyID, secret, "PYTHONPATH="+skewedPython(t)), nil},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			run := runs[r.name]
			out, ok := cli(t, aws, url, run.env, append(run.args, "list-state-machines")...)
			// (the CLI may add "(reached max retries: 0)" after the operation)
			want := "An error occurred (" + r.code + ") when calling the ListStateMachines operation"
			if ok || !strings.Contains(out, want) || !strings.Contains(out, "): "+r.message) {
				t.Fatalf("output:\n%s\nwant %q and %q", out, want, r.message)
			}
		})
	}
}

// python returns a python3 that imports boto3, or skips.
func python(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(name); err == nil && exec.Command(p, "-c", "import boto3").Run() == nil {
			return p
		}
	}
	if os.Getenv("STEPWELL_REQUIRE_BOTO3") == "1" {
		t.Fatal("no python3 with boto3 (apt-get install python3-boto3)")
	}
	t.Skip("skipped: no python3 with boto3 (apt-get install python3-boto3; STEPWELL_REQUIRE_BOTO3=1 makes this a failure)")
	return ""
}

// boto3Script lists state machines and prints {"ok": true, "names": [...]}
// or {"code": ..., "message": ..., "status": ...}.
const boto3Script = `import json, sys
import boto3, botocore
from botocore.config import Config
unsigned = sys.argv[2] == "unsigned"
cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, signature_version=botocore.UNSIGNED if unsigned else None)
c = boto3.client("stepfunctions", endpoint_url=sys.argv[1], region_name="us-east-1", config=cfg)
try:
    r = c.list_state_machines()
    print(json.dumps({"ok": True, "names": [m["name"] for m in r["stateMachines"]]}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                      "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
`

func TestBoto3(t *testing.T) {
	py := python(t)
	url := serve(t, "--addr", "127.0.0.1:0", "--credentials", credsFile)
	script := filepath.Join(t.TempDir(), "list.py")
	if err := os.WriteFile(script, []byte(boto3Script), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		OK      bool
		Code    string
		Message string
		Status  int
	}
	call := func(t *testing.T, env []string, mode string) result {
		t.Helper()
		cmd := exec.Command(py, script, url, mode)
		cmd.Env = env
		out, err := cmd.Output()
		var r result
		if err != nil || json.Unmarshal(out, &r) != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				out = append(out, ee.Stderr...)
			}
			t.Fatalf("boto3: %v\n%s", err, out)
		}
		return r
	}
	if r := call(t, clientEnv(keyID, secret), "signed"); !r.OK {
		t.Fatalf("with a configured key: %+v", r)
	}
	envs := map[string][]string{
		"no signature": clientEnv("", ""),
		"unknown key":  clientEnv("AKIDNOBODY", secret),
		"wrong secret": clientEnv(keyID, "not-the-secret"),
		"expired date": clientEnv(keyID, secret, "PYTHONPATH="+skewedPython(t)),
	}
	for _, want := range refusals {
		t.Run(want.name, func(t *testing.T) {
			mode := "signed"
			if want.name == "no signature" {
				mode = "unsigned"
			}
			r := call(t, envs[want.name], mode)
			if r.Code != want.code || !strings.HasPrefix(r.Message, want.message) || r.Status != http.StatusBadRequest {
				t.Fatalf("got %+v, want %s (HTTP 400) %q", r, want.code, want.message)
			}
		})
	}
}

// testCA is a throwaway certificate authority and a server certificate it
// signed for 127.0.0.1 and localhost, as PEM files.
type testCA struct{ caFile, certFile, keyFile string }

func newTestCA(t *testing.T) testCA {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Stepwell test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return testCA{caFile: write("ca.pem", "CERTIFICATE", caDER), certFile: write("cert.pem", "CERTIFICATE", der),
		keyFile: write("key.pem", "PRIVATE KEY", keyDER)}
}

func TestTLS(t *testing.T) {
	ca := newTestCA(t)
	url := serve(t, "--addr", "127.0.0.1:0", "--credentials", credsFile, "--tls-cert", ca.certFile, "--tls-key", ca.keyFile)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("listening on %s", url)
	}
	t.Run("SDK", func(t *testing.T) {
		pem, err := os.ReadFile(ca.caFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		c := sdkClient(url, keyID, secret, func(o *sfn.Options) { o.HTTPClient = httpc })
		if _, err := c.ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{}); err != nil {
			t.Fatalf("over TLS: %v", err)
		}
		// Plain HTTP to the TLS port is not served.
		if _, err := sdkClient(strings.Replace(url, "https:", "http:", 1), keyID, secret).ListStateMachines(context.Background(),
			&sfn.ListStateMachinesInput{}); err == nil {
			t.Fatal("plain HTTP to the TLS port succeeded")
		}
	})
	t.Run("AWS CLI", func(t *testing.T) {
		aws := awsCLI(t)
		if out, ok := cli(t, aws, url, clientEnv(keyID, secret), "--ca-bundle", ca.caFile, "list-state-machines"); !ok {
			t.Fatalf("--ca-bundle:\n%s", out)
		}
		if out, ok := cli(t, aws, url, clientEnv(keyID, secret, "AWS_CA_BUNDLE="+ca.caFile), "list-state-machines"); !ok {
			t.Fatalf("AWS_CA_BUNDLE:\n%s", out)
		}
		out, ok := cli(t, aws, url, clientEnv(keyID, secret), "list-state-machines")
		if ok || !strings.Contains(out, "SSL validation failed") {
			t.Fatalf("without the CA bundle:\n%s", out)
		}
		out, ok = cli(t, aws, url, clientEnv(keyID, "not-the-secret"), "--ca-bundle", ca.caFile, "list-state-machines")
		if ok || !strings.Contains(out, "(InvalidSignatureException)") {
			t.Fatalf("wrong secret over TLS:\n%s", out)
		}
	})
}
