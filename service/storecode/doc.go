// Package storecode is the store live codes (门店活码): one code that sends
// each customer to the nearest store's staff or group. StoreCodes keeps the
// retail stores (with their own staff rosters, imported from CSV with
// per-row errors), a contact way per store of a code (sync_store_way, the
// one writer), the store landing page (/s/, from memory) and the nearest
// store by the visitor's position (GCJ-02, with a fallback store), and a
// code's stats. ByState maps a scan's state to its code and store for the
// contacts service.
package storecode
