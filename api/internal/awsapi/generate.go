//go:build ignore

// Generate writes awsapi's generated files from the Step Functions API
// model: go generate ./api/internal/awsapi (see doc.go).
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/stepwell/stepwell/api/internal/awsapi/gen"
)

func main() {
	modelPath := flag.String("model", "../../../../shared/spec/stepfunctions-api-model.json", "the Step Functions API model")
	dir := flag.String("dir", ".", "where to write the files")
	flag.Parse()
	model, err := os.ReadFile(*modelPath)
	if err != nil {
		log.Fatal(err)
	}
	files, err := gen.Files(model)
	if err != nil {
		log.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
