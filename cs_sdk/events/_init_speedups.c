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

/* 1: ``value`` validates to itself for this field; 0: pydantic decides; -1: an error. */
static int
accepts(PyObject *field, PyObject *value)
{
    int kind = kind_of(value);
    if (kind == 0)
        return 0;
    PyObject *literals = PyTuple_GET_ITEM(field, 2);
    if (literals != Py_None) /* a Literal: its values (None among them when optional) */
        return in_literals(literals, value);
    return (PyLong_AsLong(PyTuple_GET_ITEM(field, 1)) & kind) != 0;
}

/* BaseModel's descriptors of __dict__, __pydantic_fields_set__, __pydantic_extra__ and
 * __pydantic_private__ (its __dict__ and slots), in that order: EventInit's ``state``. */
#define STATE_SLOTS 4

static int
set_state(PyObject *state, PyObject *self, PyObject *values, PyObject *given)
{
    /* object.__setattr__, as pydantic's own model_construct (a frozen model refuses its
     * __setattr__), through the descriptors themselves: no attribute lookup per call, ~50 ns
     * fewer. Each checks that ``self`` is an instance of BaseModel. */
    PyObject *set[STATE_SLOTS] = {values, given, Py_None, Py_None};
    for (int at = 0; at < STATE_SLOTS; at++) {
        PyObject *descr = PyTuple_GET_ITEM(state, at);
        if (Py_TYPE(descr)->tp_descr_set(descr, self, set[at]) < 0)
            return -1;
    }
    return 0;
}

/* 1: ``self`` is built from ``data``; 0: pydantic must (nothing changed); -1: an error. */
static int
build(PyObject *state, PyObject *self, PyObject *data)
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
    Py_ssize_t count = PyTuple_GET_SIZE(spec), matched = 0;
    PyObject *values = NULL, *given = NULL;
    /* The usual call names every field, in declaration order: then the instance's __dict__
     * is a copy of the keywords (a compact dict's copy is one block copy) and the names
     * given are its keys. Measured on 8 fields: 365 ns per call building both one item at
     * a time, ~XXX ns this way. */
    if (PyDict_GET_SIZE(data) == count) {
        Py_ssize_t pos = 0, at = 0;
        PyObject *key, *value;
        while (PyDict_Next(data, &pos, &key, &value)) {
            PyObject *field = PyTuple_GET_ITEM(spec, at++);
            PyObject *name = PyTuple_GET_ITEM(field, 0);
            if (key != name) {
                int same = PyUnicode_CheckExact(key) ? PyUnicode_Compare(key, name) : -1;
                if (same == -1 && PyErr_Occurred())
                    return -1;
                if (same != 0)
                    goto in_any_order;
            }
            int ok = accepts(field, value);
            if (ok <= 0)
                return ok;
        }
        /* The keywords' dict itself when nobody else holds it (type.__call__ built it for
         * this call, from the call's keywords or a ``**mapping``: the caller's own dict is
         * never this one), else a copy: one dict fewer to build and free per event. */
        values = Py_REFCNT(data) == 1 ? Py_NewRef(data) : PyDict_Copy(data);
        given = values == NULL ? NULL : PySet_New(values);
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
            int ok = accepts(field, value);
            if (ok < 0)
                goto error;
            if (ok == 0)
                goto fallback;
            if (PySet_Add(given, name) < 0)
                goto error;
            matched++;
        }
        else if (PyErr_Occurred())
            goto error;
        else if (PyTuple_GET_SIZE(PyTuple_GET_ITEM(field, 3)) == 1)
            value = PyTuple_GET_ITEM(PyTuple_GET_ITEM(field, 3), 0); /* its default */
        else
            goto fallback; /* a required field missing: pydantic's error */
        if (PyDict_SetItem(values, name, value) < 0)
            goto error;
    }
    if (matched != PyDict_GET_SIZE(data))
        goto fallback; /* a keyword that is no field: pydantic's error (extra="forbid") */
built:
    if (set_state(state, self, values, given) < 0)
        goto error;
    Py_DECREF(values);
    Py_DECREF(given);
    return 1;
fallback:
    Py_DECREF(values);
    Py_DECREF(given);
    return 0;
error:
    Py_XDECREF(values);
    Py_XDECREF(given);
    return -1;
}


/* EventInit: ``cs_sdk.Event.__init__``. A descriptor rather than a Python function, so that
 * ``ReportCreated(**fields)`` goes from type.__call__ straight here with the keywords' dict
 * (a Python ``__init__(self, /, **data)`` frame unpacks and repacks it: ~300 ns of a 650 ns
 * construction, measured). Like a function it binds to an instance (``super().__init__``
 * from a subclass's own ``__init__``) and is itself when read from the class; Python sets
 * the attributes pydantic and ``inspect`` read on it (``__pydantic_base_init__``,
 * ``__signature__``) in its ``__dict__`` (events/_fast_init.py, event_init). */
typedef struct {
    PyObject_HEAD
    PyObject *fallback; /* BaseModel.__init__: pydantic's validator */
    PyObject *state;    /* see set_state */
    PyObject *dict;
} EventInit;

static PyObject *
event_init_call(EventInit *self, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) == 1) {
        PyObject *data = kwargs;
        PyObject *empty = NULL;
        if (data == NULL && (data = empty = PyDict_New()) == NULL)
            return NULL;
        int built = build(self->state, PyTuple_GET_ITEM(args, 0), data);
        Py_XDECREF(empty);
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
        PyObject *data = kwargs;
        PyObject *empty = NULL;
        if (data == NULL && (data = empty = PyDict_New()) == NULL)
            return -1;
        int built = build(init->state, instance, data);
        Py_XDECREF(empty);
        if (built != 0)
            return built < 0 ? -1 : 0;
    }
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
    Py_RETURN_TRUE;
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
    for (Py_ssize_t at = 0; at < PyTuple_GET_SIZE(state); at++)
        if (Py_TYPE(PyTuple_GET_ITEM(state, at))->tp_descr_set == NULL)
            state = NULL; /* not data descriptors */
    if (state == NULL || PyTuple_GET_SIZE(state) != STATE_SLOTS) {
        PyErr_SetString(PyExc_TypeError, "EventInit(fallback, state): 4 data descriptors");
        return NULL;
    }
    EventInit *self = (EventInit *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
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
    PyObject *module = PyModule_Create(&module_def);
    if (module != NULL && PyModule_AddObjectRef(module, "EventInit", (PyObject *)&EventInitType) < 0)
        Py_CLEAR(module);
    return module;
}
