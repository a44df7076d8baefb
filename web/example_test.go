package web_test

import (
	"log"

	"github.com/doggogan/doggogan/web"
)

// Serve the translate page of a trained run and its training dashboard,
// with the default limits, as `doggogan serve --model RUN --run RUN` does.
func Example() {
	model, err := web.LoadModel("runs/cat2dog", "")
	if err != nil {
		log.Fatal(err)
	}
	h, err := web.New(web.Options{Model: model, RunDir: "runs/cat2dog"})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(web.NewHTTPServer("127.0.0.1:8080", h).ListenAndServe())
}
