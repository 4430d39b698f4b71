package livecode

import (
	"math"
	"testing"
)

// The expected distances were computed independently, as the angle between
// the two points' unit vectors on a sphere of radius 6371008.8 m (atan2 of
// the cross and dot products), not with haversine.
func TestGreatCircleM(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		lat1, lng1, lat2, lng2 float64
		want                   float64
	}{
		{"one degree on the equator", 0, 0, 0, 1, 111195.080},
		{"across the 180° meridian", 0, 179.5, 0, -179.5, 111195.080},
		{"across the meridian, south Pacific", -17, 179.95, -17, -179.9, 15950.457},
		{"the other way round", -17, -179.99, -17, 179.9, 11697.002},
		{"over the north pole", 89.9, 0, 89.9, 180, 22239.016},
		{"a quarter turn around the pole", 89.9, 0, 89.9, 90, 15725.355},
		{"the pole itself, any longitude", 90, 0, 89.95, 180, 5559.754},
		{"Beijing to Shanghai", 39.9087, 116.3975, 31.2304, 121.4737, 1068140.343},
		{"People's Square to Lujiazui", 31.2304, 121.4737, 31.2397, 121.4998, 2688.362},
		{"antipodes on the equator", 0, 0, 0, 180, 20015114.442},
		{"same point", 31.2304, 121.4737, 31.2304, 121.4737, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := GreatCircleM(tc.lat1, tc.lng1, tc.lat2, tc.lng2)
			if math.Abs(got-tc.want) > 0.01 {
				t.Fatalf("GreatCircleM = %.3f m, want %.3f m", got, tc.want)
			}
			if back := GreatCircleM(tc.lat2, tc.lng2, tc.lat1, tc.lng1); math.Abs(back-got) > 1e-6 {
				t.Fatalf("not symmetric: %.6f vs %.6f", got, back)
			}
		})
	}
}

func TestValidLatLng(t *testing.T) {
	for _, tc := range []struct {
		lat, lng float64
		ok       bool
	}{
		{0, 0, true}, {90, 180, true}, {-90, -180, true},
		{90.0001, 0, false}, {0, -180.0001, false}, {math.NaN(), 0, false}, {0, math.Inf(1), false},
	} {
		if got := ValidLatLng(tc.lat, tc.lng); got != tc.ok {
			t.Errorf("ValidLatLng(%v, %v) = %v", tc.lat, tc.lng, got)
		}
	}
}

func TestWGS84ToGCJ02(t *testing.T) {
	// Outside mainland China the datums agree.
	for _, p := range [][2]float64{{48.8584, 2.2945}, {-33.8568, 151.2153}, {0, 0}} {
		if lat, lng := WGS84ToGCJ02(p[0], p[1]); lat != p[0] || lng != p[1] {
			t.Errorf("%v moved to %v,%v", p, lat, lng)
		}
	}
	// Inside it the shift is hundreds of metres to the east (north-east in
	// Beijing, south-east in Shanghai): more than the spacing of city stores.
	for _, p := range [][2]float64{{39.9087, 116.3975}, {31.2304, 121.4737}} {
		lat, lng := WGS84ToGCJ02(p[0], p[1])
		d := GreatCircleM(p[0], p[1], lat, lng)
		if d < 100 || d > 1000 || lng <= p[1] || (p[0] > 35) != (lat > p[0]) {
			t.Errorf("%v shifted to %.6f,%.6f (%.0f m)", p, lat, lng, d)
		}
	}
}
