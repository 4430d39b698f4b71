// Command loadgen plays WeCom customers against a running gateway, for the
// demo and for the figures in docs/BENCHMARKS.md.
//
//	loadgen [-scans N] [-rate R] [-concurrency C]       customers scan a random-mode code
//	loadgen -precise -scans N [-caps 10,20,...]         landing page, then the member's own code
//	loadgen -callbacks N -url URL -corp ID -token T -aes-key K
//	                                                    signed callbacks straight at the ingress
//
// The scan modes drive the simulator's /sim/ control API (the demo gateway
// serves it on its own port) and read back what the simulator saw, so the
// latencies are WeCom's view: from the add event to the accepted welcome.
package main
