package mysqlerr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCodeThroughWrapping(t *testing.T) {
	err := fmt.Errorf("checking: %w", TableAccessDenied("SELECT", "u", "h", "t"))
	assert.Equal(t, uint16(1142), Code(err))
	assert.Equal(t, uint16(0), Code(errors.New("plain")))
	assert.Equal(t, uint16(0), Code(nil))
	var e *Error
	assert.True(t, errors.As(err, &e))
	assert.Equal(t, "42000", e.SQLState)
}

func TestMessagesAreMySQLs(t *testing.T) {
	assert.Equal(t, "Access denied for user 'u'@'localhost' (using password: NO)", AccessDenied("u", "localhost", false).Message)
	assert.Equal(t, "Access denied; you need (at least one of) the SUPER, SYSTEM_VARIABLES_ADMIN privilege(s) for this operation",
		SpecificAccessDenied("SUPER", "SYSTEM_VARIABLES_ADMIN").Message)
	assert.Equal(t, "Error 1524 (HY000): Plugin 'x' is not loaded", PluginNotLoaded("x").Error())
}
