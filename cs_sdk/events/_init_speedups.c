/* A typed event's construction in C, for the classes whose validation is provably the
 * identity on exact scalars (cs_sdk/events/_fast_init.py decides, once per class).
 *
 *     Event.__init__ = EventInit(BaseModel.__init__, state)   # events/_fast_init.py
 *     install(SubClass, Event.__init__)                       # its type.__call__ comes here
 *
 * Why: ``track(ReportCreated(**fields))`` spent ~1.4 µs of its ~2 µs in pydantic's
 * ``validate_python`` (issue 15: a typed event at 2.6-3.5x the flat milestone's cost, where
 * the target is 2x). For a class of str/int/bool/float/None fields, Literals and scalar
 * defaults, with no validator, alias, constraint or post-init, validating an exact str,
 * int (not bool), bool, finite float or None leaves it as it is: the instance is the field
 * values in declaration order, the names given, and no extra or private state. This builds
 * exactly that (``build``).
 *
 * Everything else changes nothing and goes to BaseModel.__init__, pydantic's validator: a missing field, an unknown keyword, a value of another type (a str subclass,
 * a bool for an int, an int for a float, an inf or nan), a class without a spec. So every
 * error and every conversion is still pydantic's own; tests/test_events_fast_init.py
 * compares both on random classes and inputs (hypothesis).
 *
 * Spec (``__cs_fast_init__`` in the class's own ``__dict__``): a tuple of one tuple per
 * field, in declaration order: (name, kinds, literals, default). ``kinds`` is a mask of
 * KIND_* below; ``literals`` a tuple of the allowed values (a Literal field's, None among
 * them when it is optional; ``kinds`` is then unused), or None; ``default`` a 1-tuple
 * holding the default, or () for a required field.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stddef.h>
#include "../_slots.h"

/* The bits of a field's ``kinds`` (events/_fast_init.py names the same values). */
enum { KIND_STR = 1, KIND_INT = 2, KIND_BOOL = 4, KIND_FLOAT = 8, KIND_NONE = 16 };

static PyObject *str_spec;

/* The value's own kind bit, or 0 for a value that is not an exact scalar (a subclass, a
 * container, a non-finite float: pydantic decides). */
static int
kind_of(PyObject *value)
{
    if (PyUnicode_CheckExact(value))
        return KIND_STR;
    if (PyLong_CheckExact(value))
        return KIND_INT;
    if (PyBool_Check(value))
        return KIND_BOOL;
    if (PyFloat_CheckExact(value))
        return isfinite(PyFloat_AS_DOUBLE(value)) ? KIND_FLOAT : 0;
    if (value == Py_None)
        return KIND_NONE;
    return 0;
}

/* 1: ``value`` is one of ``literals`` (same type, equal); 0: not; -1: an error. True == 1 in
 * Python, so the type is compared first: a bool never passes for an int literal here. */
static int
in_literals(PyObject *literals, PyObject *value)
{
    Py_ssize_t count = PyTuple_GET_SIZE(literals);
    for (Py_ssize_t at = 0; at < count; at++) {
        PyObject *allowed = PyTuple_GET_ITEM(literals, at);
        if (Py_TYPE(allowed) != Py_TYPE(value))
            continue;
        int same = PyObject_RichCompareBool(allowed, value, Py_EQ);
        if (same != 0)
            return same;
    }
    return 0;
}

/* 1: ``value`` validates to itself for this field (``kinds``: its mask, compiled); 0:
 * pydantic decides; -1: an error. */
static int
accepts(PyObject *field, int kinds, PyObject *value)
{
    int kind = kind_of(value);
    if (kind == 0)
        return 0;
    PyObject *literals = PyTuple_GET_ITEM(field, 2);
    if (literals != Py_None) /* a Literal: its values (None among them when optional) */
        return in_literals(literals, value);
    return (kinds & kind) != 0;
}

/* A spec compiled once for build(): its fields' kinds as bytes (one per field) and the set
 * of every field name, which a copy of is the instance's fields set when the call names
 * every field (a set copied from a set reuses its hashes and is sized once: ~1,100
 * instructions of a ~3,400-instruction construction went into building it from the
 * keywords' dict, one insertion and a resize at a time, measured with callgrind). Cached
 * per spec, held: a spec tuple is immutable, so what is compiled from it stays true, and a
 * class given a new spec (a redefinition, a test) simply misses. A few entries, replaced in
 * turn: applications declare a handful of event classes. */
#define COMPILED_SLOTS 16
static struct {
    PyObject *spec;  /* held */
    PyObject *kinds; /* bytes, one mask per field */
    PyObject *names; /* set of the field names */
} compiled[COMPILED_SLOTS];
static int compiled_next;

/* The compiled form of ``spec`` (a tuple of field tuples): new references in *kinds and
 * *names, taken before anything runs that could replace the cache entry. 0: done; -1: an
 * error; 1: ``spec`` is not a well-formed spec (pydantic decides). */
static int
compiled_of(PyObject *spec, PyObject **kinds, PyObject **names)
{
    for (int at = 0; at < COMPILED_SLOTS; at++) {
        if (compiled[at].spec == spec) {
            *kinds = Py_NewRef(compiled[at].kinds);
            *names = Py_NewRef(compiled[at].names);
            return 0;
        }
    }
    Py_ssize_t count = PyTuple_GET_SIZE(spec);
    PyObject *masks = PyBytes_FromStringAndSize(NULL, count);
    PyObject *set = masks == NULL ? NULL : PySet_New(NULL);
    if (set == NULL) {
        Py_XDECREF(masks);
        return -1;
    }
    for (Py_ssize_t at = 0; at < count; at++) {
        PyObject *field = PyTuple_GET_ITEM(spec, at);
        long mask = -1;
        if (PyTuple_CheckExact(field) && PyTuple_GET_SIZE(field) == 4 &&
            PyUnicode_CheckExact(PyTuple_GET_ITEM(field, 0)) &&
            PyLong_CheckExact(PyTuple_GET_ITEM(field, 1)) &&
            PyTuple_CheckExact(PyTuple_GET_ITEM(field, 3)))
            mask = PyLong_AsLong(PyTuple_GET_ITEM(field, 1));
        if (mask < 0 || mask > 255) {
            Py_DECREF(masks);
            Py_DECREF(set);
            if (PyErr_Occurred())
                return -1;
            return 1;
        }
        PyBytes_AS_STRING(masks)[at] = (char)mask;
        if (PySet_Add(set, PyTuple_GET_ITEM(field, 0)) < 0) {
            Py_DECREF(masks);
            Py_DECREF(set);
            return -1;
        }
    }
    int slot = compiled_next;
    compiled_next = (compiled_next + 1) % COMPILED_SLOTS;
    PyObject *old_spec = compiled[slot].spec, *old_kinds = compiled[slot].kinds;
    PyObject *old_names = compiled[slot].names;
    compiled[slot].spec = Py_NewRef(spec);
    compiled[slot].kinds = masks;
    compiled[slot].names = set;
    *kinds = Py_NewRef(masks);
    *names = Py_NewRef(set);
    Py_XDECREF(old_spec); /* last: their finalizers find the cache consistent */
    Py_XDECREF(old_kinds);
    Py_XDECREF(old_names);
    return 0;
}

/* BaseModel's descriptors of __dict__, __pydantic_fields_set__, __pydantic_extra__ and
 * __pydantic_private__ (its __dict__ and slots), in that order: EventInit's ``state``. */
#define STATE_SLOTS 4

/* EventInit: ``cs_sdk.Event.__init__`` (see its type below). */
typedef struct {
    PyObject_HEAD
    PyObject *fallback; /* BaseModel.__init__: pydantic's validator */
    PyObject *state;    /* see set_state */
    PyObject *dict;
    /* Where the three slots of ``state`` are in an instance (from their member descriptors,
     * in the constructor), or 0 when they are not plain object slots. */
    Py_ssize_t offsets[STATE_SLOTS];
} EventInit;

static int
set_state(EventInit *init, PyObject *self, PyObject *values, PyObject *given, int direct)
{
    /* object.__setattr__, as pydantic's own model_construct (a frozen model refuses its
     * __setattr__), through the descriptors themselves: no attribute lookup per call, ~50 ns
     * fewer. Each checks that ``self`` is an instance of BaseModel; ``direct`` (an instance
     * type.__call__ made for a class install() fitted, so one of BaseModel's) writes the
     * three slots where their descriptors would: the same stores, without a walk of the
     * class's MRO per slot (~300 instructions of a construction, callgrind). */
    PyObject *set[STATE_SLOTS] = {values, given, Py_None, Py_None};
    int descriptors = direct && init->offsets[1] != 0 ? 1 : STATE_SLOTS;
    for (int at = 0; at < descriptors; at++) {
        PyObject *descr = PyTuple_GET_ITEM(init->state, at);
        if (Py_TYPE(descr)->tp_descr_set(descr, self, set[at]) < 0)
            return -1;
    }
    for (int at = descriptors; at < STATE_SLOTS; at++) {
        PyObject **slot = (PyObject **)((char *)self + init->offsets[at]);
        Py_XSETREF(*slot, Py_NewRef(set[at]));
    }
    return 0;
}

/* 1: ``self`` is built from ``data``; 0: pydantic must (nothing changed); -1: an error.
 * ``direct``: see set_state. */
static int
build(EventInit *init, PyObject *self, PyObject *data, int direct)
{
    if (!PyDict_CheckExact(data))
        return 0;
    PyObject *type_dict = Py_TYPE(self)->tp_dict;
    /* The class's own spec: a subclass decides for itself (a new field may not be plain). */
    PyObject *spec = type_dict == NULL ? NULL : PyDict_GetItemWithError(type_dict, str_spec);
    if (spec == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyTuple_CheckExact(spec) || PyDict_GET_SIZE(data) > PyTuple_GET_SIZE(spec))
        return 0; /* no spec (None), or more keywords than fields: an extra one */
    Py_INCREF(spec); /* borrowed from the class, which a finalizer could change */
    PyObject *kinds = NULL, *names = NULL, *values = NULL, *given = NULL;
    int result = compiled_of(spec, &kinds, &names);
    if (result != 0) {
        Py_DECREF(spec);
        return result < 0 ? -1 : 0;
    }
    const unsigned char *masks = (const unsigned char *)PyBytes_AS_STRING(kinds);
    Py_ssize_t count = PyTuple_GET_SIZE(spec), matched = 0;
    /* The usual call names every field, in declaration order: then the instance's __dict__
     * is the keywords' dict itself or its copy (a compact dict's copy is one block copy),
     * and the names given are a copy of the compiled set of every name. Measured with
     * callgrind on 8 fields: ~3,400 instructions a construction building the set from the
     * keywords and reading each field's kinds as an int, ~1,900 this way. */
    if (PyDict_GET_SIZE(data) == count) {
        Py_ssize_t pos = 0, at = 0;
        PyObject *key, *value;
        while (PyDict_Next(data, &pos, &key, &value)) {
            PyObject *field = PyTuple_GET_ITEM(spec, at);
            PyObject *name = PyTuple_GET_ITEM(field, 0);
            if (key != name) {
                int same = PyUnicode_CheckExact(key) ? PyUnicode_Compare(key, name) : -1;
                if (same == -1 && PyErr_Occurred())
                    goto error;
                if (same != 0)
                    goto in_any_order;
            }
            int ok = accepts(field, masks[at++], value);
            if (ok < 0)
                goto error;
            if (ok == 0)
                goto done;
        }
        /* The keywords' dict itself when nobody else holds it (type.__call__ built it for
         * this call, from the call's keywords or a ``**mapping``: the caller's own dict is
         * never this one), else a copy: one dict fewer to build and free per event. */
        values = Py_REFCNT(data) == 1 ? Py_NewRef(data) : PyDict_Copy(data);
        given = values == NULL ? NULL : PySet_New(names);
        if (given == NULL)
            goto error;
        goto built;
    }
in_any_order:
    values = PyDict_New();
    given = PySet_New(NULL);
    if (values == NULL || given == NULL)
        goto error;
    for (Py_ssize_t at = 0; at < count; at++) {
        PyObject *field = PyTuple_GET_ITEM(spec, at);
        PyObject *name = PyTuple_GET_ITEM(field, 0);
        PyObject *value = PyDict_GetItemWithError(data, name); /* borrowed */
        if (value != NULL) {
            int ok = accepts(field, masks[at], value);
            if (ok < 0)
                goto error;
            if (ok == 0)
                goto done;
            if (PySet_Add(given, name) < 0)
                goto error;
            matched++;
        }
        else if (PyErr_Occurred())
            goto error;
        else if (PyTuple_GET_SIZE(PyTuple_GET_ITEM(field, 3)) == 1)
            value = PyTuple_GET_ITEM(PyTuple_GET_ITEM(field, 3), 0); /* its default */
        else
            goto done; /* a required field missing: pydantic's error */
        if (PyDict_SetItem(values, name, value) < 0)
            goto error;
    }
    if (matched != PyDict_GET_SIZE(data))
        goto done; /* a keyword that is no field: pydantic's error (extra="forbid") */
built:
    result = set_state(init, self, values, given, direct) < 0 ? -1 : 1;
    goto done;
error:
    result = -1;
done: /* result 0 here: pydantic's (nothing was set) */
    Py_XDECREF(values);
    Py_XDECREF(given);
    Py_DECREF(kinds);
    Py_DECREF(names);
    Py_DECREF(spec);
    return result;
}


/* EventInit: ``cs_sdk.Event.__init__``. A descriptor rather than a Python function, so that
 * ``ReportCreated(**fields)`` goes from type.__call__ straight here with the keywords' dict
 * (a Python ``__init__(self, /, **data)`` frame unpacks and repacks it: ~300 ns of a 650 ns
 * construction, measured). Like a function it binds to an instance (``super().__init__``
 * from a subclass's own ``__init__``) and is itself when read from the class; Python sets
 * the attributes pydantic and ``inspect`` read on it (``__pydantic_base_init__``,
 * ``__signature__``) in its ``__dict__`` (events/_fast_init.py, event_init). */

/* build() with the call's keywords (none: an empty dict): 1 built, 0 pydantic's, -1 error. */
static int
build_from(EventInit *init, PyObject *instance, PyObject *kwargs, int direct)
{
    if (kwargs != NULL)
        return build(init, instance, kwargs, direct);
    PyObject *empty = PyDict_New();
    if (empty == NULL)
        return -1;
    int built = build(init, instance, empty, direct);
    Py_DECREF(empty);
    return built;
}

static PyObject *
event_init_call(EventInit *self, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) == 1) {
        int built = build_from(self, PyTuple_GET_ITEM(args, 0), kwargs, 0);
        if (built < 0)
            return NULL;
        if (built)
            Py_RETURN_NONE;
    }
    /* Positional arguments (pydantic's TypeError), a class without a spec, any input
     * the spec does not take: BaseModel.__init__, the reference, with what was given. */
    return PyObject_Call(self->fallback, args, kwargs);
}

/* The class's own tp_init (install): what type.__call__ runs, the same as the descriptor's call
 * above without looking ``__init__`` up and packing ``self`` into an argument tuple on every
 * call (~60 ns of ~350, measured). CPython puts its generic slot back by itself whenever a
 * class's ``__init__`` is assigned afterwards, so the user's own __init__ always wins. */
static PyTypeObject EventInitType;
static EventInit *installed; /* Event.__init__, set by the first install() */

static int
event_tp_init(PyObject *instance, PyObject *args, PyObject *kwargs)
{
    EventInit *init = installed;
    if (PyTuple_GET_SIZE(args) == 0) {
        int built = build_from(init, instance, kwargs, 1);
        if (built != 0)
            return built < 0 ? -1 : 0;
    }
    /* As event_init_call: BaseModel.__init__ with what was given, ``self`` first. */
    Py_ssize_t count = PyTuple_GET_SIZE(args);
    PyObject *with_self = PyTuple_New(count + 1);
    if (with_self == NULL)
        return -1;
    PyTuple_SET_ITEM(with_self, 0, Py_NewRef(instance));
    for (Py_ssize_t at = 0; at < count; at++)
        PyTuple_SET_ITEM(with_self, at + 1, Py_NewRef(PyTuple_GET_ITEM(args, at)));
    PyObject *result = PyObject_Call(init->fallback, with_self, kwargs);
    Py_DECREF(with_self);
    if (result == NULL)
        return -1;
    int none = result == Py_None;
    Py_DECREF(result);
    if (!none) {
        PyErr_SetString(PyExc_TypeError, "__init__() should return None");
        return -1;
    }
    return 0;
}

/* The tp_call of an installed class's metaclass (install: Event's, or a subclass of it that
 * does not define __call__): type.__call__, which for an installed class is object.__new__
 * then event_tp_init, without object.__new__'s array of attribute values. On 3.11 and 3.12
 * object.__new__ gives every instance of a class with a managed __dict__ such an array,
 * which the first store to ``__dict__`` (set_state, or pydantic's validator) turns into a
 * dict and throws away with it: two blocks allocated, filled and freed per event for
 * nothing, and the code of each step to run, cold after the application has been idle. An
 * instance whose __dict__ is made on first use is what CPython itself makes for a subclass
 * of a built-in type with its own allocation (a list's), and what it turns an instance into
 * when its __dict__ is replaced; 3.13 lays the values out within the object: the same there.
 * (A tp_new of the class's own would do the same, but ``object.__new__(cls)``, which pydantic
 * and copy call, refuses a class whose tp_new is not object's.) Anything else (a class not
 * installed, one with its own __new__, an abstract class, positional arguments) is
 * type.__call__'s, as before. */
static newfunc object_tp_new;  /* object.__new__'s tp_new, read at import */
static ternaryfunc type_tp_call; /* type.__call__'s tp_call, idem */
static int event_tp_init(PyObject *instance, PyObject *args, PyObject *kwargs);

static PyObject *
event_meta_call(PyObject *callable, PyObject *args, PyObject *kwargs)
{
    PyTypeObject *type = (PyTypeObject *)callable;
    if (type->tp_init != event_tp_init || type->tp_new != object_tp_new ||
        (type->tp_flags & Py_TPFLAGS_IS_ABSTRACT) || PyTuple_GET_SIZE(args) != 0)
        return type_tp_call(callable, args, kwargs);
    PyObject *instance = type->tp_alloc(type, 0);
    if (instance != NULL && event_tp_init(instance, args, kwargs) < 0)
        Py_CLEAR(instance);
    return instance;
}

/* install(cls, init): cls's tp_init becomes event_tp_init when ``cls.__init__`` is ``init``
 * (Event's, inherited: a class with its own __init__ keeps it). True when installed. */
static PyObject *
install(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyType_Check(args[0]) || Py_TYPE(args[1]) != &EventInitType) {
        PyErr_SetString(PyExc_TypeError, "install(cls, init)");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    if (installed != NULL && (PyObject *)installed != args[1])
        Py_RETURN_FALSE; /* another Event.__init__ (never, today): leave the class as it is */
    PyObject *found = PyObject_GetAttrString(args[0], "__init__");
    if (found == NULL)
        return NULL;
    int same = found == args[1];
    Py_DECREF(found);
    if (!same || !(cls->tp_flags & Py_TPFLAGS_HEAPTYPE) || cls->tp_init == NULL)
        Py_RETURN_FALSE;
    if (installed == NULL)
        installed = (EventInit *)Py_NewRef(args[1]);
    cls->tp_init = event_tp_init;
    PyType_Modified(cls);
    /* Its metaclass's call too, when that is type.__call__ (see event_meta_call). */
    PyTypeObject *meta = Py_TYPE(cls);
    if (meta != &PyType_Type && (meta->tp_flags & Py_TPFLAGS_HEAPTYPE) &&
        meta->tp_call == type_tp_call) {
        meta->tp_call = event_meta_call;
        PyType_Modified(meta);
    }
    Py_RETURN_TRUE;
}

/* fitted(cls): True when ``cls(**fields)`` takes the whole C path (install): the class's
 * tp_init and its metaclass's tp_call are this module's. For tests: a fast path that a
 * later change to CPython or pydantic quietly turned off must fail one, not just cost more. */
static PyObject *
fitted(PyObject *module, PyObject *cls)
{
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "fitted(cls)");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    return PyBool_FromLong(type->tp_init == event_tp_init &&
                           Py_TYPE(cls)->tp_call == event_meta_call);
}

static PyObject *
event_init_get(PyObject *self, PyObject *instance, PyObject *owner)
{
    if (instance == NULL || instance == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, instance);
}

static PyObject *
event_init_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *fallback, *state;
    if (!PyArg_ParseTuple(args, "OO!:EventInit", &fallback, &PyTuple_Type, &state))
        return NULL;
    int descriptors = PyTuple_GET_SIZE(state) == STATE_SLOTS;
    for (Py_ssize_t at = 0; descriptors && at < STATE_SLOTS; at++)
        descriptors = Py_TYPE(PyTuple_GET_ITEM(state, at))->tp_descr_set != NULL;
    if (!descriptors) {
        PyErr_SetString(PyExc_TypeError, "EventInit(fallback, state): 4 data descriptors");
        return NULL;
    }
    /* The slots' offsets, when all three are plain object slots (else every construction
     * goes through the descriptors). */
    Py_ssize_t offsets[STATE_SLOTS] = {0};
    for (Py_ssize_t at = 1; at < STATE_SLOTS; at++)
        offsets[at] = plain_slot_offset(PyTuple_GET_ITEM(state, at));
    EventInit *self = (EventInit *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (offsets[1] != 0 && offsets[2] != 0 && offsets[3] != 0)
        memcpy(self->offsets, offsets, sizeof offsets);
    self->fallback = Py_NewRef(fallback);
    self->state = Py_NewRef(state);
    return (PyObject *)self;
}

static int
event_init_traverse(EventInit *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fallback);
    Py_VISIT(self->state);
    Py_VISIT(self->dict);
    return 0;
}

static int
event_init_clear(EventInit *self)
{
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->state);
    Py_CLEAR(self->dict);
    return 0;
}

static void
event_init_dealloc(EventInit *self)
{
    PyObject_GC_UnTrack(self);
    event_init_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject EventInitType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cs_sdk.events._init_speedups.EventInit",
    .tp_basicsize = sizeof(EventInit),
    .tp_dealloc = (destructor)event_init_dealloc,
    .tp_call = (ternaryfunc)event_init_call,
    .tp_getattro = PyObject_GenericGetAttr,
    .tp_setattro = PyObject_GenericSetAttr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "EventInit(fallback, state): cs_sdk.Event.__init__ (see _init_speedups.c).",
    .tp_traverse = (traverseproc)event_init_traverse,
    .tp_clear = (inquiry)event_init_clear,
    .tp_descr_get = event_init_get,
    .tp_dictoffset = offsetof(EventInit, dict),
    .tp_new = event_init_new,
};

static PyMethodDef functions[] = {
    {"install", (PyCFunction)(void (*)(void))install, METH_FASTCALL,
     "install(cls, init): cls's instances built by event_tp_init (see _init_speedups.c)."},
    {"fitted", fitted, METH_O, "fitted(cls): cls(**fields) takes the whole C path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cs_sdk.events._init_speedups",
    .m_doc = "Typed event construction in C for plain classes (optional; see the .c file).",
    .m_size = -1,
    .m_methods = functions,
};

PyMODINIT_FUNC
PyInit__init_speedups(void)
{
    if ((str_spec = PyUnicode_InternFromString("__cs_fast_init__")) == NULL ||
        PyType_Ready(&EventInitType) < 0)
        return NULL;
    object_tp_new = PyBaseObject_Type.tp_new;
    type_tp_call = PyType_Type.tp_call;
    PyObject *module = PyModule_Create(&module_def);
    if (module != NULL && PyModule_AddObjectRef(module, "EventInit", (PyObject *)&EventInitType) < 0)
        Py_CLEAR(module);
    return module;
}
