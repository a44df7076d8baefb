package torchpth

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// storageType is a torch.*Storage class named in the pickle.
type storageType struct {
	dtype string // torch dtype name, e.g. "float32"
	size  int    // bytes per element
}

// storageTypes maps the classes that torch.save pickles for typed storages.
var storageTypes = map[string]storageType{
	"FloatStorage":    {"float32", 4},
	"DoubleStorage":   {"float64", 8},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
}

// storageRef is a storage as the pickle describes it; its bytes are read
// from the archive only when a tensor is materialized.
type storageRef struct {
	typ   storageType
	key   string // record data/KEY
	numel int    // element count claimed by the pickle
}

// tensorRef is a tensor as _rebuild_tensor_v2 describes it: a view into a
// storage.
type tensorRef struct {
	storage *storageRef
	offset  int
	shape   []int
	stride  []int
}

// callable adapts a Go function to gopickle's types.Callable.
type callable func(args ...any) (any, error)

func (c callable) Call(args ...any) (any, error) { return c(args...) }

// rebuildTensorV2 implements torch._utils._rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
func rebuildTensorV2(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*storageRef)
	if !ok {
		return nil, errors.New("_rebuild_tensor_v2: first argument is not a storage")
	}
	off, ok := args[1].(int)
	if !ok || off < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: bad storage offset %v", args[1])
	}
	shape, err := intTuple(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(shape) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size has %d dimensions, stride %d", len(shape), len(stride))
	}
	return &tensorRef{storage: st, offset: off, shape: shape, stride: stride}, nil
}

func intTuple(v any, what string) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %s is not a tuple", what)
	}
	out := make([]int, t.Len())
	for i := range out {
		n, ok := t.Get(i).(int)
		if !ok || n < 0 {
			return nil, fmt.Errorf("_rebuild_tensor_v2: %s[%d] = %v is not a non-negative int", what, i, t.Get(i))
		}
		out[i] = n
	}
	return out, nil
}

// rebuildParameter implements torch._utils._rebuild_parameter(data,
// requires_grad, backward_hooks) and _rebuild_parameter_with_state: an
// nn.Parameter is read as its tensor.
func rebuildParameter(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("_rebuild_parameter: no arguments")
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, errors.New("_rebuild_parameter: data is not a tensor")
	}
	return args[0], nil
}

// rebuildFromTypeV2 implements torch._tensor._rebuild_from_type_v2(func,
// new_type, args, state), used for tensor subclasses: the tensor is
// func(*args); the subclass and its state are dropped.
func rebuildFromTypeV2(args ...any) (any, error) {
	if len(args) < 3 {
		return nil, errors.New("_rebuild_from_type_v2: too few arguments")
	}
	fn, ok := args[0].(types.Callable)
	if !ok {
		return nil, errors.New("_rebuild_from_type_v2: func is not callable")
	}
	inner, ok := args[2].(*types.Tuple)
	if !ok {
		return nil, errors.New("_rebuild_from_type_v2: args is not a tuple")
	}
	return fn.Call(*inner...)
}

// findClass resolves the GLOBALs a state_dict pickle uses. Everything else
// becomes an inert gopickle GenericClass: nothing is ever executed.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return callable(rebuildTensorV2), nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return callable(rebuildParameter), nil
	case "torch._tensor._rebuild_from_type_v2":
		return callable(rebuildFromTypeV2), nil
	}
	if module == "torch" {
		if st, ok := storageTypes[name]; ok {
			return st, nil
		}
		if len(name) > 7 && name[len(name)-7:] == "Storage" {
			return nil, fmt.Errorf("unsupported storage type torch.%s", name)
		}
	}
	return types.NewGenericClass(module, name), nil
}

// unpickle runs gopickle on data.pkl after prescan has bounded what it may
// allocate, and turns a panic in gopickle (which can happen on malformed
// pickles) into an error.
func (l *loader) unpickle(pkl []byte) (obj any, err error) {
	if err := prescan(pkl); err != nil {
		return nil, l.errorf("data.pkl: %v", err)
	}
	storages := map[string]*storageRef{}
	u := pickle.NewUnpickler(bytes.NewReader(pkl))
	u.FindClass = findClass
	u.PersistentLoad = func(pid any) (any, error) {
		return l.persistentLoad(pid, storages)
	}
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, l.errorf("data.pkl: malformed pickle (%v)", r)
		}
	}()
	obj, err = u.Load()
	if err != nil {
		return nil, l.errorf("data.pkl: %v", err)
	}
	return obj, nil
}

// persistentLoad resolves ('storage', storage_type, key, location, numel).
// The storage's bytes are not read here; the claimed numel is checked
// against the record's real size when a tensor uses it.
func (l *loader) persistentLoad(pid any, storages map[string]*storageRef) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() != 5 {
		return nil, fmt.Errorf("persistent id %v is not a 5-tuple", pid)
	}
	if s, _ := t.Get(0).(string); s != "storage" {
		return nil, fmt.Errorf("persistent id of kind %v, want 'storage'", t.Get(0))
	}
	typ, ok := t.Get(1).(storageType)
	if !ok {
		return nil, fmt.Errorf("persistent id: unsupported storage type %v", describe(t.Get(1)))
	}
	key, ok1 := t.Get(2).(string)
	numel, ok2 := t.Get(4).(int)
	if !ok1 || !ok2 || numel < 0 {
		return nil, fmt.Errorf("persistent id: bad key %v or size %v", t.Get(2), t.Get(4))
	}
	if s, seen := storages[key]; seen {
		if s.typ != typ || s.numel != numel {
			return nil, fmt.Errorf("storage %q described twice differently", key)
		}
		return s, nil
	}
	s := &storageRef{typ: typ, key: key, numel: numel}
	storages[key] = s
	return s, nil
}

func describe(v any) string {
	if g, ok := v.(*types.GenericClass); ok {
		return g.Module + "." + g.Name
	}
	return fmt.Sprintf("%T", v)
}

// namedRef is a tensor found in the unpickled object, with its name.
type namedRef struct {
	name string
	ref  *tensorRef
}

// maxNesting bounds the dict nesting that collect follows.
const maxNesting = 16

// collect finds the state_dict in the unpickled object and lists its
// tensors in order.
func (l *loader) collect(obj any) ([]namedRef, error) {
	// Unwrap {"state_dict": sd, ...} (possibly more than once).
	for i := 0; i < maxNesting; i++ {
		inner, ok := lookup(obj, "state_dict")
		if !ok || !isDict(inner) {
			break
		}
		obj = inner
	}
	if _, ok := obj.(*tensorRef); ok {
		return nil, l.errorf("the file holds a single tensor, not a state_dict")
	}
	if !isDict(obj) {
		return nil, l.errorf("the file holds a %s, not a state_dict (a dict of tensors)", pyType(obj))
	}
	var out []namedRef
	seen := map[string]bool{}
	visiting := map[any]bool{}
	var walk func(v any, prefix string, depth int) error
	walk = func(v any, prefix string, depth int) error {
		if depth > maxNesting {
			return l.errorf("dicts nested deeper than %d", maxNesting)
		}
		if visiting[v] {
			return l.errorf("the state_dict contains itself")
		}
		visiting[v] = true
		defer delete(visiting, v)
		return entries(v, func(k, val any) error {
			var key string
			switch k := k.(type) {
			case string:
				key = k
			case int:
				key = strconv.Itoa(k)
			default:
				return nil // not a state_dict key
			}
			switch val := val.(type) {
			case *tensorRef:
				// A repeated key (only a crafted pickle has one) or a
				// flattened name that collides ("a.b" next to
				// {"a": {"b": ...}}) is ambiguous: refuse it.
				name := prefix + key
				if seen[name] {
					return l.errorf("tensor name %q occurs twice", name)
				}
				seen[name] = true
				out = append(out, namedRef{name, val})
			case *types.Dict, *types.OrderedDict:
				return walk(val, prefix+key+".", depth+1)
			}
			return nil
		})
	}
	if err := walk(obj, "", 0); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, l.errorf("no tensors found")
	}
	return out, nil
}

func isDict(v any) bool {
	switch v.(type) {
	case *types.Dict, *types.OrderedDict:
		return true
	}
	return false
}

// entries calls fn for each key/value of a Dict or OrderedDict in order.
func entries(v any, fn func(k, val any) error) error {
	switch d := v.(type) {
	case *types.Dict:
		for _, e := range *d {
			if err := fn(e.Key, e.Value); err != nil {
				return err
			}
		}
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			oe, ok := e.Value.(*types.OrderedDictEntry)
			if !ok {
				continue
			}
			if err := fn(oe.Key, oe.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// lookup returns the value under a string key of a Dict or OrderedDict.
func lookup(v any, key string) (any, bool) {
	var found any
	ok := false
	_ = entries(v, func(k, val any) error {
		if s, isStr := k.(string); isStr && s == key {
			found, ok = val, true
		}
		return nil
	})
	return found, ok
}

func pyType(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case *types.List:
		return "list"
	case *types.Tuple:
		return "tuple"
	case string:
		return "str"
	case int:
		return "int"
	case *types.GenericObject:
		return v.Class.Module + "." + v.Class.Name + " object"
	case *types.GenericClass:
		return v.Module + "." + v.Name
	}
	return fmt.Sprintf("%T", v)
}
