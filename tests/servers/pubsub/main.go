// Command pstest-server serves Google's in-memory Pub/Sub fake (cloud.google.com/go/pubsub/v2/pstest) over gRPC on
// 127.0.0.1 for the collector's tests. Clients reach it through PUBSUB_EMULATOR_HOST and create topics and
// subscriptions with the ordinary admin API. It prints "listening on HOST:PORT" once it accepts connections.
//
// -deny METHOD (e.g. GetTopic; may repeat) answers that method PERMISSION_DENIED, as Pub/Sub does for credentials
// without the permission (the fake has no IAM of its own).
//
// On SIGTERM or SIGINT it stops serving first and then, with -dump FILE, writes every message it acknowledged
// (one JSON object a line: id, topic, data as base64, attributes) before it exits. The fake keeps messages only
// in memory; the dump is how a test that stops the server (a Pub/Sub outage) still sees what it had accepted.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc/codes"
)

type dumped struct {
	ID         string            `json:"id"`
	Topic      string            `json:"topic"`
	Data       []byte            `json:"data"`
	Attributes map[string]string `json:"attributes"`
}

type methods []string

func (m *methods) String() string     { return strings.Join(*m, ",") }
func (m *methods) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0: any free port)")
	dump := flag.String("dump", "", "write the acknowledged messages to this file on exit")
	var denied methods
	flag.Var(&denied, "deny", "answer this method PERMISSION_DENIED (may repeat)")
	flag.Parse()
	var options []pstest.ServerReactorOption
	for _, method := range denied {
		options = append(options, pstest.WithErrorInjection(method, codes.PermissionDenied,
			"User not authorized to perform this action."))
	}
	server := pstest.NewServerWithAddress(fmt.Sprintf("127.0.0.1:%d", *port), options...)
	fmt.Printf("listening on %s\n", server.Addr)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	if err := server.Close(); err != nil { // stop serving first: nothing is acknowledged after this
		fmt.Fprintln(os.Stderr, "close:", err)
	}
	messages := server.Messages() // the in-memory state outlives the gRPC server
	if *dump == "" {
		return
	}
	if err := write(*dump, messages); err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		os.Exit(1)
	}
}

func write(path string, messages []*pstest.Message) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	encoder := json.NewEncoder(file)
	for _, m := range messages {
		if err := encoder.Encode(dumped{ID: m.ID, Topic: m.Topic, Data: m.Data, Attributes: m.Attributes}); err != nil {
			file.Close()
			return err
		}
	}
	return file.Close()
}
