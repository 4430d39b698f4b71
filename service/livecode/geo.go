package livecode

import "math"

// EarthRadiusM is the IUGG mean Earth radius. A spherical model is off by
// at most about 0.5 % against the ellipsoid, far below the spacing of stores.
const EarthRadiusM = 6371008.8

// GreatCircleM is the great-circle distance in metres between two points
// given in degrees, by the haversine formula: well-conditioned for the
// short distances between a customer and a store, and correct across the
// 180° meridian and near the poles without special cases.
func GreatCircleM(lat1, lng1, lat2, lng2 float64) float64 {
	const rad = math.Pi / 180
	φ1, φ2 := lat1*rad, lat2*rad
	dφ := (lat2 - lat1) * rad
	dλ := (lng2 - lng1) * rad
	h := sq(math.Sin(dφ/2)) + math.Cos(φ1)*math.Cos(φ2)*sq(math.Sin(dλ/2))
	// Rounding can push h a hair above 1 for antipodal points.
	h = math.Min(1, math.Max(0, h))
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(h))
}

func sq(x float64) float64 { return x * x }

// ValidLatLng reports whether a position is on the globe.
func ValidLatLng(lat, lng float64) bool {
	return !math.IsNaN(lat) && !math.IsNaN(lng) && lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180
}

// WGS84ToGCJ02 shifts a GPS position (what a plain browser's geolocation
// reports) into GCJ-02, the datum of Chinese maps and of WeChat's own
// location API, in which stores are entered. The offset is up to several
// hundred metres inside mainland China and zero outside it. This is the
// widely published approximation of the official transform (accurate to
// about a metre).
func WGS84ToGCJ02(lat, lng float64) (float64, float64) {
	if outOfChina(lat, lng) {
		return lat, lng
	}
	const (
		a  = 6378245.0
		ee = 0.00669342162296594323
	)
	dLat := transformLat(lng-105.0, lat-35.0)
	dLng := transformLng(lng-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - ee*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((a * (1 - ee)) / (magic * sqrtMagic) * math.Pi)
	dLng = (dLng * 180.0) / (a / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lat + dLat, lng + dLng
}

// outOfChina is the rough bounding box the transform applies within.
func outOfChina(lat, lng float64) bool {
	return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271
}

func transformLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func transformLng(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}
