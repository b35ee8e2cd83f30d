package awsint_test

import (
	"fmt"

	"github.com/stepwell/stepwell/integrations"
	awsint "github.com/stepwell/stepwell/integrations/aws"
)

// The server's wiring: endpoints from the environment and from
// --aws-endpoint flags (which win), then the integration's route, last in
// the router.
func Example() {
	env := map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "SQS_ENDPOINT": "http://127.0.0.1:9324", "AWS_REGION": "eu-west-1"}
	cfg := awsint.FromEnv(func(k string) string { return env[k] })
	service, url, err := awsint.ParseEndpoint("dynamodb=http://127.0.0.1:8000")
	if err != nil {
		panic(err)
	}
	cfg.Endpoints[service] = url
	in, err := awsint.New(cfg)
	if err != nil {
		panic(err)
	}
	router := integrations.NewRouter().Add(in.Route())
	_ = router
	fmt.Println(cfg.Region, cfg.Endpoints[""], cfg.Endpoints["sqs"], cfg.Endpoints["dynamodb"])
	fmt.Println(awsint.Handles("arn:aws:states:::aws-sdk:s3:getObject"), awsint.Handles("arn:aws:states:::lambda:invoke"))
	// Output:
	// eu-west-1 http://127.0.0.1:5000 http://127.0.0.1:9324 http://127.0.0.1:8000
	// true false
}
