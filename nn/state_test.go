package nn_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func smallNet() *nn.Sequential {
	return nn.NewSequential(
		nn.NewConv2D(1, 2, 3, nn.Conv2DOptions{Padding: []int{1}}),
		nn.NewBatchNorm2D(2),
		nn.NewReLU(),
		nn.NewFlatten(),
		nn.NewLinear(2*4*4, 3),
	)
}

func names(ps []nn.Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func TestStateDictNames(t *testing.T) {
	require.Equal(t, []string{"0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "1._mean", "1._variance"},
		names(nn.StateDict(smallNet())))
}

func TestSaveLoadRoundTrip(t *testing.T) {
	rng := newRNG()
	a := smallNet()
	x := tensor.Randn(rng, 2, 1, 4, 4)
	a.Forward(x) // moves BatchNorm's running statistics off their initial values
	nn.Eval(a)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, nn.Save(path, a))

	b := smallNet()
	nn.Eval(b)
	_, err := nn.Load(path, b)
	require.NoError(t, err)
	for i, p := range nn.StateDict(a) {
		require.Equal(t, p.Data(), nn.StateDict(b)[i].Data(), p.Name)
	}
	tensortest.AllClose(t, b.Forward(x), a.Forward(x), 0, 0)

	// The bytes parse with a reader written here from the safetensors spec alone.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	parsed := parseSafetensors(t, raw)
	for _, p := range nn.StateDict(a) {
		require.Equal(t, p.Data(), parsed[p.Name].data, p.Name)
		require.Equal(t, p.Shape(), parsed[p.Name].shape, p.Name)
	}
	require.Len(t, parsed, len(nn.StateDict(a)))
}

type specTensor struct {
	shape []int
	data  []float32
}

// parseSafetensors follows the format description only: u64 little-endian header size, JSON
// header {name: {dtype, shape, data_offsets}}, then the byte buffer.
func parseSafetensors(t *testing.T, raw []byte) map[string]specTensor {
	t.Helper()
	require.GreaterOrEqual(t, len(raw), 8)
	n := binary.LittleEndian.Uint64(raw[:8])
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw[8:8+n], &header))
	buf := raw[8+n:]
	out := map[string]specTensor{}
	for name, msg := range header {
		if name == "__metadata__" {
			continue
		}
		var info struct {
			DType   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		require.NoError(t, json.Unmarshal(msg, &info))
		require.Equal(t, "F32", info.DType)
		b := buf[info.Offsets[0]:info.Offsets[1]]
		vals := make([]float32, len(b)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		out[name] = specTensor{info.Shape, vals}
	}
	return out
}

func TestSetStateDictReportsEverything(t *testing.T) {
	net := nn.NewSequential(nn.NewLinear(2, 3), nn.NewLinear(3, 1))
	before := append([]float32(nil), net.Params()[0].Data()...)
	err := nn.SetStateDict(net, []nn.Param{
		{Name: "0.weight", Tensor: tensor.Zeros(2, 3)},
		{Name: "0.bias", Tensor: tensor.Zeros(4)},
		{Name: "1.weight", Tensor: tensor.Zeros(3, 1)},
		{Name: "extra", Tensor: tensor.Zeros(1)},
	})
	require.EqualError(t, err, `nn: SetStateDict: key "0.bias": shape [4] in the state dict, [3] in the layer
missing key "1.bias" (shape [1])
unexpected key "extra" (shape [1])`)
	require.Equal(t, before, net.Params()[0].Data(), "a failed load changes nothing")
}

func TestLoadBadFiles(t *testing.T) {
	dir := t.TempDir()
	net := smallNet()
	good := filepath.Join(dir, "good.safetensors")
	require.NoError(t, nn.Save(good, net))
	raw, err := os.ReadFile(good)
	require.NoError(t, err)
	headerLen := int(binary.LittleEndian.Uint64(raw[:8]))

	withHeader := func(h string) []byte {
		b := make([]byte, 8, 8+len(h))
		binary.LittleEndian.PutUint64(b, uint64(len(h)))
		return append(b, h...)
	}
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "safetensors: read header length: unexpected EOF"},
		{"truncated data", raw[:len(raw)-10], "safetensors: read 508 bytes of tensor data: unexpected EOF after 498 bytes"},
		{"truncated header", raw[:8+headerLen/2], "safetensors: read " + strconv.Itoa(headerLen) + "-byte header: unexpected EOF after " + strconv.Itoa(headerLen/2) + " bytes"},
		{"trailing bytes", append(append([]byte(nil), raw...), 0), "safetensors: trailing bytes after 508 bytes of tensor data"},
		{"huge header length", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "outside [2, 104857600]"},
		{"not JSON", withHeader("{nope"), `safetensors: header: found 'n', want '"' opening a key (at byte 2 of the header)`},
		{"not an object", withHeader("[1]"), `safetensors: found '[', want '{': the header is not a JSON object (at byte 1 of the header)`},
		{"wrong dtype", withHeader(`{"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`), `tensor "w": dtype "F16", oar reads only F32`},
		{"shape vs bytes", withHeader(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`), `tensor "w": shape [2] needs 8 bytes, data_offsets [0 4]`},
		{"overlap", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), `starts at byte 4, want 8 (overlap or hole)`},
		{"huge offsets", withHeader(`{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`), "read 4000000000 bytes of tensor data: unexpected EOF after 0 bytes"},
		{"missing keys", mustWrite(t, nn.NewLinear(2, 2)), `missing key "0.weight"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			require.NoError(t, os.WriteFile(path, c.data, 0o644))
			before := nn.StateDict(net)[0].Data()[0]
			_, err := nn.Load(path, net)
			require.Error(t, err)
			require.Contains(t, err.Error(), "nn: load "+path+": ")
			require.Contains(t, err.Error(), c.msg)
			require.Equal(t, before, nn.StateDict(net)[0].Data()[0])
		})
	}
	_, err = nn.Load(filepath.Join(dir, "absent"), net)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func mustWrite(t *testing.T, l nn.Layer) []byte {
	var buf bytes.Buffer
	require.NoError(t, nn.Write(&buf, l))
	return buf.Bytes()
}

func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	net := smallNet()
	require.NoError(t, nn.Save(path, net))
	// a save into a directory that does not exist fails and leaves nothing behind
	err := nn.Save(filepath.Join(dir, "missing", "m.safetensors"), net)
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), info.Mode().Perm())
}
