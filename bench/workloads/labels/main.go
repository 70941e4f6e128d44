// Command labels is a CPU-bound "server" that handles synthetic requests under runtime/pprof labels
// (request_id, trace_id, span_id, endpoint, tenant) and writes a CPU profile: the label-heavy input of the flamebill benchmark.
// Every request has its own request_id, so nearly every sample carries a distinct label set, as in a fleet
// profile with per-request labels. With -labels=false the same work runs unlabelled (the label-free input).
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"time"
)

var endpoints = []string{"/checkout", "/cart", "/search", "/login", "/recommend", "/orders", "/payments", "/inventory"}

func main() {
	out := flag.String("o", "labels.pb.gz", "output profile path")
	seconds := flag.Float64("seconds", 20, "how long to run")
	hz := flag.Int("hz", 2000, "CPU profile sampling rate")
	workers := flag.Int("workers", runtime.NumCPU(), "concurrent workers")
	labels := flag.Bool("labels", true, "label each request")
	flag.Parse()

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	// StartCPUProfile keeps a rate set beforehand (it only warns that it cannot set its default of 100 Hz).
	runtime.SetCPUProfileRate(*hz)
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var wg sync.WaitGroup
	var mu sync.Mutex
	requests := 0
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			n := 0
			for i := w; time.Now().Before(deadline); i += *workers {
				handle(i, *labels)
				n++
			}
			mu.Lock()
			requests += n
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("requests=%d\n", requests)
}

// handle serves one request: about a millisecond of CPU in stacks whose shape depends on the request.
func handle(i int, labelled bool) {
	seed := uint64(i)*0x9e3779b97f4a7c15 + 1
	work := func(context.Context) { route(seed, 40+int(seed%120)) }
	if !labelled {
		work(context.Background())
		return
	}
	ls := pprof.Labels(
		"request_id", "req-"+strconv.FormatUint(seed>>20, 36),
		"trace_id", fmt.Sprintf("%016x%016x", seed, ^seed),
		"span_id", fmt.Sprintf("%016x", seed*31),
		"endpoint", endpoints[seed%uint64(len(endpoints))],
		"tenant", "tenant-"+strconv.Itoa(int(seed>>7)%40),
	)
	pprof.Do(context.Background(), ls, work)
}

// route and the step functions call each other by the bits of seed, giving deep and varied stacks with many
// distinct call sites (recursion included, so cum must count a sample once per function).
func route(seed uint64, depth int) {
	if depth == 0 {
		leaf(seed)
		return
	}
	next := seed>>4 | seed<<60
	switch seed & 15 {
	case 0:
		step0(next, depth-1)
	case 1:
		step1(next, depth-1)
	case 2:
		step2(next, depth-1)
	case 3:
		step3(next, depth-1)
	case 4:
		step4(next, depth-1)
	case 5:
		step5(next, depth-1)
	case 6:
		step6(next, depth-1)
	case 7:
		step7(next, depth-1)
	case 8:
		step8(next, depth-1)
	case 9:
		step9(next, depth-1)
	case 10:
		step10(next, depth-1)
	case 11:
		step11(next, depth-1)
	case 12:
		step12(next, depth-1)
	case 13:
		step13(next, depth-1)
	case 14:
		step14(next, depth-1)
	case 15:
		step15(next, depth-1)
	}
}

func step0(seed uint64, depth int) { route(seed^0x1111, depth) }
func step1(seed uint64, depth int) { route(seed^0x2222, depth) }
func step2(seed uint64, depth int) { route(seed^0x3333, depth) }
func step3(seed uint64, depth int) { route(seed^0x4444, depth) }
func step4(seed uint64, depth int) { route(seed^0x5555, depth) }
func step5(seed uint64, depth int) { route(seed^0x6666, depth) }
func step6(seed uint64, depth int) { route(seed^0x7777, depth) }
func step7(seed uint64, depth int) { route(seed^0x8888, depth) }
func step8(seed uint64, depth int) { route(seed^0x9999, depth) }
func step9(seed uint64, depth int) { route(seed^0xaaaa, depth) }
func step10(seed uint64, depth int) { route(seed^0xbbbb, depth) }
func step11(seed uint64, depth int) { route(seed^0xcccc, depth) }
func step12(seed uint64, depth int) { route(seed^0xdddd, depth) }
func step13(seed uint64, depth int) { route(seed^0xeeee, depth) }
func step14(seed uint64, depth int) { route(seed^0xffff, depth) }
func step15(seed uint64, depth int) { route(seed^0x11110, depth) }

func leaf(seed uint64) {
	switch seed % 3 {
	case 0:
		hashWork(seed)
	case 1:
		sortWork(seed)
	default:
		formatWork(seed)
	}
}

func hashWork(seed uint64) {
	var buf [64]byte
	for i := range buf {
		buf[i] = byte(seed >> (i % 8))
	}
	for i := 0; i < 2000; i++ {
		sum := sha256.Sum256(buf[:])
		buf[0] ^= sum[0]
	}
}

func sortWork(seed uint64) {
	xs := make([]int, 4000)
	for i := range xs {
		seed = seed*6364136223846793005 + 1442695040888963407
		xs[i] = int(seed >> 33)
	}
	sort.Ints(xs)
}

func formatWork(seed uint64) {
	s := 0
	for i := 0; i < 6000; i++ {
		s += len(strconv.FormatUint(seed+uint64(i), 16))
	}
	if s < 0 {
		panic("unreachable")
	}
}
