//go:build !purego

package kernel

// Assembly in dot_amd64.s; see GemmNT.

//go:noescape
func dotTile1x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile1x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile1x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile1x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile2x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile2x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile2x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile2x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile3x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile3x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile3x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

//go:noescape
func dotTile3x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)

var dotTiles = [3][4]func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32){
	{dotTile1x1, dotTile1x2, dotTile1x3, dotTile1x4},
	{dotTile2x1, dotTile2x2, dotTile2x3, dotTile2x4},
	{dotTile3x1, dotTile3x2, dotTile3x3, dotTile3x4},
}
