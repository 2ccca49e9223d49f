/* The floor of a recording call (bench/floor.py): the least any SDK must do in the caller's
 * thread to keep an event, and nothing more. Not part of cs_sdk; built by bench/floor.py
 * into a temporary directory.
 *
 * Each call copies what the caller could change afterwards (the properties dict: one shallow
 * copy, where a correct SDK copies nested values too; a typed event is frozen, so it is kept
 * as it is), reads the clock, and appends one tuple to a deque
 * that a thread empties every 100 ms (bench/_peers.py, Floor). No validation, no size
 * accounting, no event id, no redaction, no context, no counters, no fallback: a lower
 * bound on cs_sdk's milestone()/track()/feedback()/outcome(), which do all of those.
 *
 *     record(name, *, properties=None, **others)   milestone, feedback and outcome
 *     track(event, *, user_id=None)                 a typed event: its class and itself
 *     set_queue(append)                             where events go (a deque's append)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <time.h>

static PyObject *queue_append; /* the deque's bound append */
static PyObject *str_properties;

/* Appends (what, keywords, body, time in ns) to the queue; None, or NULL with an error. */
static PyObject *
keep(PyObject *what, PyObject *keywords, PyObject *body)
{
    if (queue_append == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "set_queue() first");
        return NULL;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    PyObject *stamp = PyLong_FromLongLong((long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    PyObject *event = stamp == NULL ? NULL : PyTuple_Pack(4, what, keywords, body, stamp);
    Py_XDECREF(stamp);
    if (event == NULL)
        return NULL;
    PyObject *appended = PyObject_CallOneArg(queue_append, event);
    Py_DECREF(event);
    if (appended == NULL)
        return NULL;
    Py_DECREF(appended);
    Py_RETURN_NONE;
}

/* The keyword values other than properties, in a tuple (their names are the call site's). */
static PyObject *
others_of(PyObject *const *values, PyObject *kwnames, PyObject **properties)
{
    Py_ssize_t count = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject *others = PyTuple_New(count);
    for (Py_ssize_t at = 0; others != NULL && at < count; at++) {
        int is_properties = PyTuple_GET_ITEM(kwnames, at) == str_properties;
        if (is_properties)
            *properties = values[at];
        PyTuple_SET_ITEM(others, at, Py_NewRef(is_properties ? Py_None : values[at]));
    }
    return others;
}

/* record() and track(): the first argument (a name, or a typed event) and the keywords kept;
 * the properties copied (record), a typed event kept as it is (frozen: no copy needed). */
static PyObject *
kept(PyObject *const *args, size_t nargsf, PyObject *kwnames, int typed)
{
    if (PyVectorcall_NARGS(nargsf) != 1) {
        PyErr_SetString(PyExc_TypeError, "one positional argument");
        return NULL;
    }
    PyObject *properties = NULL;
    PyObject *others = others_of(args + 1, kwnames, &properties);
    if (others == NULL)
        return NULL;
    PyObject *what = typed ? (PyObject *)Py_TYPE(args[0]) : args[0];
    PyObject *body = typed ? Py_NewRef(args[0])
                     : properties != NULL && PyDict_Check(properties) ? PyDict_Copy(properties)
                                                                      : Py_NewRef(Py_None);
    PyObject *result = body == NULL ? NULL : keep(what, others, body);
    Py_XDECREF(body);
    Py_DECREF(others);
    return result;
}

static PyObject *
record(PyObject *module, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return kept(args, nargsf, kwnames, 0);
}

static PyObject *
track(PyObject *module, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return kept(args, nargsf, kwnames, 1);
}

static PyObject *
set_queue(PyObject *module, PyObject *append)
{
    Py_XSETREF(queue_append, Py_NewRef(append));
    Py_RETURN_NONE;
}

static PyMethodDef functions[] = {
    {"record", (PyCFunction)(void (*)(void))record, METH_FASTCALL | METH_KEYWORDS,
     "record(name, *, properties=None, **others): keep a copy."},
    {"track", (PyCFunction)(void (*)(void))track, METH_FASTCALL | METH_KEYWORDS,
     "track(event, **others): keep the (frozen) event."},
    {"set_queue", set_queue, METH_O, "set_queue(append): where kept events go."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_floor",
    .m_doc = "The floor of a recording call (bench/floor.py).",
    .m_size = -1,
    .m_methods = functions,
};

PyMODINIT_FUNC
PyInit__floor(void)
{
    if ((str_properties = PyUnicode_InternFromString("properties")) == NULL)
        return NULL;
    return PyModule_Create(&module_def);
}
