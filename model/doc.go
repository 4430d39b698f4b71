// Package model owns the gateway's tables: GORM models, versioned migrations
// and task-shaped store methods. It holds no business rules and never hands a
// *gorm.DB to its callers.
package model
