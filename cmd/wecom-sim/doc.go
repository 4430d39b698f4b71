// Command wecom-sim runs the WeCom simulator as its own process: WeCom's
// server API under /cgi-bin/, encrypted callbacks to the gateway, and the
// /sim/ control API. See docs/SIMULATOR.md.
package main
