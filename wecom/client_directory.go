package wecom

import (
	"context"
	"net/url"
	"strconv"
)

// Department is one department of the corp's address book.
type Department struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	ParentID int    `json:"parentid"`
	Order    int    `json:"order"`
}

// StaffMember is one member of the corp's address book.
type StaffMember struct {
	UserID      string `json:"userid"`
	Name        string `json:"name"`
	Departments []int  `json:"department"`
	Avatar      string `json:"avatar"`
	// Status: 1 active, 2 disabled, 4 not yet activated, 5 left.
	Status int `json:"status"`
}

// ListDepartments reads every department the app may see (department/list).
func (c *Client) ListDepartments(ctx context.Context) ([]Department, error) {
	var out struct {
		Department []Department `json:"department"`
	}
	err := c.ownGet(ctx, APIListDepartments, nil, &out)
	return out.Department, err
}

// ListStaff reads the members of a department, and of the departments
// under it when withChildren (user/list: names, departments and avatars,
// which user/simplelist lacks, hence our own request).
func (c *Client) ListStaff(ctx context.Context, departmentID int, withChildren bool) ([]StaffMember, error) {
	if departmentID <= 0 {
		return nil, invalidf(APIListStaff, "department_id must be positive")
	}
	q := url.Values{"department_id": {strconv.Itoa(departmentID)}}
	if withChildren {
		q.Set("fetch_child", "1")
	}
	var out struct {
		UserList []StaffMember `json:"userlist"`
	}
	err := c.ownGet(ctx, APIListStaff, q, &out)
	return out.UserList, err
}
