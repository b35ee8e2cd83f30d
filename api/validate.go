package api

// decodeInput decodes a request body into an operation's input shape,
// generated from the API model (awsapi), and checks it against the model's
// constraints: required members, lengths, patterns, enums, ranges. It
// answers SerializationException for malformed JSON or a mistyped member,
// then AWS's ValidationException listing every violation.
func decodeInput(body []byte, in interface{ Validate() error }) error {
	if err := decode(body, in); err != nil {
		return err
	}
	return in.Validate()
}
