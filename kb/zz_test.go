package kb

import "testing"

func BenchmarkZZTextCold(b *testing.B) {
	c, _ := LoadBuiltin()
	for i := 0; i < b.N; i++ {
		m := NewMatcher(c)
		m.Match("Profile installation failed. The enrollment could not complete on my iPad")
	}
}
