/* The collector's OTLP logs decoder in C: protobuf wire bytes -> ReceivedRecord objects.
 *
 *     records = decode(data, ReceivedRecord, setters, max_records, max_attributes,
 *                      max_depth, max_values)     # a list, or None
 *
 * It produces exactly what ``_decode.records_of(ExportLogsServiceRequest.FromString(data))``
 * produces, for the requests the SDK (and most OTLP senders) write. Anything it does not
 * fully understand (an unknown field, a wire type that does not match the field, a singular
 * field given twice, which protobuf would merge, a limit reached, invalid UTF-8, a malformed
 * length) makes it return None without judging: the Python decoder then decides, so a
 * refusal and its message are always the Python decoder's.
 *
 * Safety: every length is checked against the bytes left in its enclosing message, varints
 * stop at 10 bytes, value nesting stops at FAST_DEPTH (then the Python decoder, with its own
 * limits, takes over), records, attributes and values are counted against the same Limits.
 * Nothing is read outside ``data``; the GIL is held throughout (it builds Python objects).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define OK 0
#define FALLBACK 1 /* not understood here: the Python decoder decides */
#define ERROR -1   /* a Python exception is set (memory) */

/* Below protobuf's own recursion limit (100 messages) with room to spare: a kvlist level is
 * three messages deep. Deeper values go to the Python decoder. */
#define FAST_DEPTH 16

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct {
    Py_ssize_t records_left;
    Py_ssize_t max_attributes;
    Py_ssize_t values_left;
    int max_depth;
    PyTypeObject *cls;
    PyObject *setters; /* tuple of the 13 slot descriptors, in field order */
} Ctx;

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} Span;

static int
read_varint(Span *s, uint64_t *out)
{
    uint64_t value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (s->p >= s->end) return FALLBACK;
        uint8_t byte = *s->p++;
        if (shift == 63 && byte > 1) return FALLBACK; /* past 64 bits */
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) {
            *out = value;
            return OK;
        }
    }
    return FALLBACK;
}

/* The next field's number and wire type; a LEN field's contents in ``inner``. */
static int
read_field(Span *s, uint32_t *number, int *wire, Span *inner, uint64_t *scalar)
{
    uint64_t key;
    if (read_varint(s, &key) != OK) return FALLBACK;
    if (key > UINT32_MAX || (key >> 3) == 0) return FALLBACK;
    *number = (uint32_t)(key >> 3);
    *wire = (int)(key & 7);
    switch (*wire) {
    case WT_VARINT:
        return read_varint(s, scalar);
    case WT_I64:
        if (s->end - s->p < 8) return FALLBACK;
        memcpy(scalar, s->p, 8); /* little-endian on the wire; x86 and ARM hosts alike */
        s->p += 8;
        return OK;
    case WT_I32: {
        uint32_t v;
        if (s->end - s->p < 4) return FALLBACK;
        memcpy(&v, s->p, 4);
        *scalar = v;
        s->p += 4;
        return OK;
    }
    case WT_LEN: {
        uint64_t size;
        if (read_varint(s, &size) != OK) return FALLBACK;
        if (size > (uint64_t)(s->end - s->p)) return FALLBACK;
        inner->p = s->p;
        inner->end = s->p + size;
        s->p += size;
        return OK;
    }
    default:
        return FALLBACK; /* groups, invalid wire types */
    }
}

#if PY_LITTLE_ENDIAN == 0
#error "the wire decoder assumes a little-endian host"
#endif

/* A proto3 string: invalid UTF-8 goes to the Python decoder (protobuf refuses it). */
static int
make_str(const Span *v, PyObject **out)
{
    PyObject *text = PyUnicode_DecodeUTF8((const char *)v->p, v->end - v->p, "strict");
    if (text == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear();
            return FALLBACK;
        }
        return ERROR;
    }
    *out = text;
    return OK;
}

static int any_value(Ctx *c, Span s, int depth, PyObject **out);

/* KeyValue items of a repeated field are decoded one at a time into ``dict``. */
static int
key_value(Ctx *c, Span s, int depth, PyObject *dict)
{
    Span key = {NULL, NULL}, value = {NULL, NULL};
    int seen = 0;
    while (s.p < s.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&s, &number, &wire, &inner, &scalar) != OK) return FALLBACK;
        if (wire != WT_LEN || (number != 1 && number != 2)) return FALLBACK;
        if (seen & (1 << number)) return FALLBACK; /* protobuf would merge or replace */
        seen |= 1 << number;
        if (number == 1) key = inner;
        else value = inner;
    }
    PyObject *k = NULL, *v = NULL;
    int rc;
    if (key.p != NULL) {
        if ((rc = make_str(&key, &k)) != OK) return rc;
    }
    else {
        k = PyUnicode_FromStringAndSize("", 0);
        if (k == NULL) return ERROR;
    }
    if (value.p != NULL) {
        rc = any_value(c, value, depth, &v);
        if (rc != OK) {
            Py_DECREF(k);
            return rc;
        }
    }
    else {
        v = Py_NewRef(Py_None);
    }
    rc = PyDict_SetItem(dict, k, v) < 0 ? ERROR : OK;
    Py_DECREF(k);
    Py_DECREF(v);
    return rc;
}

/* The KeyValues of field ``wanted`` of message ``s`` (resource or record attributes, a
 * kvlist) into a new dict, counted against the attribute limit when ``bounded``. */
static int
pairs(Ctx *c, Span s, int depth, PyObject **out)
{
    PyObject *dict = PyDict_New();
    if (dict == NULL) return ERROR;
    while (s.p < s.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&s, &number, &wire, &inner, &scalar) != OK || wire != WT_LEN ||
            number != 1 || --c->values_left < 0) {
            Py_DECREF(dict);
            return FALLBACK;
        }
        int rc = key_value(c, inner, depth, dict);
        if (rc != OK) {
            Py_DECREF(dict);
            return rc;
        }
    }
    *out = dict;
    return OK;
}

static int
array(Ctx *c, Span s, int depth, PyObject **out)
{
    PyObject *list = PyList_New(0);
    if (list == NULL) return ERROR;
    while (s.p < s.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        PyObject *item;
        if (read_field(&s, &number, &wire, &inner, &scalar) != OK || wire != WT_LEN ||
            number != 1 || --c->values_left < 0) {
            Py_DECREF(list);
            return FALLBACK;
        }
        int rc = any_value(c, inner, depth, &item);
        if (rc != OK) {
            Py_DECREF(list);
            return rc;
        }
        rc = PyList_Append(list, item);
        Py_DECREF(item);
        if (rc < 0) {
            Py_DECREF(list);
            return ERROR;
        }
    }
    *out = list;
    return OK;
}

/* An AnyValue as a Python value (None when empty); containers need ``depth`` > 0. */
static int
any_value(Ctx *c, Span s, int depth, PyObject **out)
{
    uint32_t kind = 0;
    int wire = 0;
    Span inner = {NULL, NULL};
    uint64_t scalar = 0;
    while (s.p < s.end) {
        uint32_t number;
        int w;
        Span i;
        uint64_t v;
        if (read_field(&s, &number, &w, &i, &v) != OK) return FALLBACK;
        if (kind != 0) return FALLBACK; /* a oneof given twice: protobuf keeps the last */
        kind = number;
        wire = w;
        inner = i;
        scalar = v;
    }
    switch (kind) {
    case 0:
        *out = Py_NewRef(Py_None);
        return OK;
    case 1: /* string_value */
        if (wire != WT_LEN) return FALLBACK;
        return make_str(&inner, out);
    case 2: /* bool_value */
        if (wire != WT_VARINT) return FALLBACK;
        *out = PyBool_FromLong(scalar != 0);
        return OK;
    case 3: /* int_value */
        if (wire != WT_VARINT) return FALLBACK;
        *out = PyLong_FromLongLong((long long)(int64_t)scalar);
        return *out == NULL ? ERROR : OK;
    case 4: { /* double_value */
        double d;
        if (wire != WT_I64) return FALLBACK;
        memcpy(&d, &scalar, 8);
        *out = PyFloat_FromDouble(d);
        return *out == NULL ? ERROR : OK;
    }
    case 5: /* array_value */
    case 6: /* kvlist_value */
        if (wire != WT_LEN || depth <= 0 || c->max_depth - depth >= FAST_DEPTH) return FALLBACK;
        return kind == 5 ? array(c, inner, depth - 1, out) : pairs(c, inner, depth - 1, out);
    case 7: /* bytes_value */
        if (wire != WT_LEN) return FALLBACK;
        *out = PyBytes_FromStringAndSize((const char *)inner.p, inner.end - inner.p);
        return *out == NULL ? ERROR : OK;
    default:
        return FALLBACK;
    }
}

/* Attributes of a resource or record: a dict, at most ``max_attributes`` of them. */
typedef struct {
    PyObject *dict;
    Py_ssize_t count;
} Attributes;

static int
add_attribute(Ctx *c, Attributes *a, Span kv)
{
    if (++a->count > c->max_attributes || --c->values_left < 0) return FALLBACK;
    return key_value(c, kv, c->max_depth, a->dict);
}

static PyObject *
hex_of(const Span *v)
{
    static const char digits[] = "0123456789abcdef";
    Py_ssize_t n = v->end - v->p;
    PyObject *text = PyUnicode_New(2 * n, 127);
    if (text == NULL) return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        out[2 * i] = (Py_UCS1)digits[v->p[i] >> 4];
        out[2 * i + 1] = (Py_UCS1)digits[v->p[i] & 15];
    }
    return text;
}

enum { F_RESOURCE, F_SCOPE_NAME, F_SCOPE_VERSION, F_TIME, F_OBSERVED, F_EVENT_NAME,
       F_SEVERITY, F_SEVERITY_TEXT, F_BODY, F_ATTRIBUTES, F_TRACE, F_SPAN, F_FLAGS, N_FIELDS };

static int
log_record(Ctx *c, Span s, PyObject *resource, PyObject *scope_name, PyObject *scope_version,
           PyObject *records)
{
    PyObject *values[N_FIELDS] = {NULL};
    Attributes attributes = {PyDict_New(), 0};
    Span severity_text = {NULL, NULL}, event_name = {NULL, NULL}, body = {NULL, NULL};
    Span trace = {NULL, NULL}, span = {NULL, NULL};
    uint64_t time = 0, observed = 0, severity = 0, flags = 0;
    uint32_t seen = 0;
    int rc = OK;
    if (attributes.dict == NULL) return ERROR;
    values[F_ATTRIBUTES] = attributes.dict;
    while (s.p < s.end && rc == OK) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&s, &number, &wire, &inner, &scalar) != OK) {
            rc = FALLBACK;
            break;
        }
        if (number != 6) {
            if (number > 12 || (seen & (1u << number))) {
                rc = FALLBACK;
                break;
            }
            seen |= 1u << number;
        }
        switch (number) {
        case 1: time = scalar; rc = wire == WT_I64 ? OK : FALLBACK; break;
        case 11: observed = scalar; rc = wire == WT_I64 ? OK : FALLBACK; break;
        case 2: severity = scalar; rc = wire == WT_VARINT ? OK : FALLBACK; break;
        case 3: severity_text = inner; rc = wire == WT_LEN ? OK : FALLBACK; break;
        case 5: body = inner; rc = wire == WT_LEN ? OK : FALLBACK; break;
        case 6:
            rc = wire == WT_LEN ? add_attribute(c, &attributes, inner) : FALLBACK;
            break;
        case 7: rc = wire == WT_VARINT ? OK : FALLBACK; break; /* dropped_attributes_count */
        case 8: flags = scalar; rc = wire == WT_I32 ? OK : FALLBACK; break;
        case 9: trace = inner; rc = wire == WT_LEN ? OK : FALLBACK; break;
        case 10: span = inner; rc = wire == WT_LEN ? OK : FALLBACK; break;
        case 12: event_name = inner; rc = wire == WT_LEN ? OK : FALLBACK; break;
        default: rc = FALLBACK;
        }
    }
    /* An open enum keeps a sign-extended int32; anything wider protobuf would truncate. */
    if (rc == OK && severity > 0x7FFFFFFFu && severity < 0xFFFFFFFF80000000u) rc = FALLBACK;
    if (rc == OK && severity_text.p != NULL) rc = make_str(&severity_text, &values[F_SEVERITY_TEXT]);
    if (rc == OK && event_name.p != NULL) rc = make_str(&event_name, &values[F_EVENT_NAME]);
    if (rc == OK && body.p != NULL) rc = any_value(c, body, c->max_depth, &values[F_BODY]);
    if (rc == OK) {
        Span empty = {NULL, NULL};
        PyObject *blank = PyUnicode_FromStringAndSize("", 0);
        values[F_RESOURCE] = Py_NewRef(resource);
        values[F_SCOPE_NAME] = Py_NewRef(scope_name);
        values[F_SCOPE_VERSION] = Py_NewRef(scope_version);
        values[F_TIME] = PyLong_FromUnsignedLongLong(time);
        values[F_OBSERVED] = PyLong_FromUnsignedLongLong(observed);
        if (values[F_EVENT_NAME] == NULL && blank != NULL) values[F_EVENT_NAME] = Py_NewRef(blank);
        values[F_SEVERITY] = PyLong_FromLong((long)(int32_t)(uint32_t)severity);
        if (values[F_SEVERITY_TEXT] == NULL && blank != NULL)
            values[F_SEVERITY_TEXT] = Py_NewRef(blank);
        if (values[F_BODY] == NULL) values[F_BODY] = Py_NewRef(Py_None);
        values[F_TRACE] = hex_of(trace.p != NULL ? &trace : &empty);
        values[F_SPAN] = hex_of(span.p != NULL ? &span : &empty);
        values[F_FLAGS] = PyLong_FromUnsignedLong((unsigned long)flags);
        Py_XDECREF(blank);
        for (int i = 0; i < N_FIELDS; i++) {
            if (values[i] == NULL) rc = ERROR;
        }
    }
    if (rc == OK) {
        static PyObject *empty_args = NULL;
        if (empty_args == NULL) empty_args = PyTuple_New(0);
        PyObject *record = empty_args ? c->cls->tp_new(c->cls, empty_args, NULL) : NULL;
        if (record == NULL) rc = ERROR;
        for (int i = 0; rc == OK && i < N_FIELDS; i++) {
            PyObject *setter = PyTuple_GET_ITEM(c->setters, i);
            if (Py_TYPE(setter)->tp_descr_set(setter, record, values[i]) < 0) rc = ERROR;
        }
        if (rc == OK && PyList_Append(records, record) < 0) rc = ERROR;
        Py_XDECREF(record);
    }
    for (int i = 0; i < N_FIELDS; i++) Py_XDECREF(values[i]);
    return rc;
}

/* A LEN field that must be a valid string (schema_url): checked, not kept. */
static int
check_str(const Span *v)
{
    PyObject *text;
    int rc = make_str(v, &text);
    if (rc == OK) Py_DECREF(text);
    return rc;
}

static int
scope_logs(Ctx *c, Span s, PyObject *resource, PyObject *records)
{
    /* First the scope (it may come after the records on the wire), then the records. */
    Span walk = s, scope = {NULL, NULL};
    int rc;
    while (walk.p < walk.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&walk, &number, &wire, &inner, &scalar) != OK || wire != WT_LEN)
            return FALLBACK;
        if (number == 1) {
            if (scope.p != NULL) return FALLBACK;
            scope = inner;
        }
        else if (number == 2) {
            if (--c->records_left < 0) return FALLBACK;
        }
        else if (number == 3) {
            if ((rc = check_str(&inner)) != OK) return rc;
        }
        else {
            return FALLBACK;
        }
    }
    Span name = {NULL, NULL}, version = {NULL, NULL};
    int seen = 0;
    while (scope.p != NULL && scope.p < scope.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&scope, &number, &wire, &inner, &scalar) != OK) return FALLBACK;
        if (number == 4 && wire == WT_VARINT) continue; /* dropped_attributes_count */
        if ((number != 1 && number != 2) || wire != WT_LEN || (seen & (1 << number)))
            return FALLBACK; /* scope attributes included: rare, left to Python */
        seen |= 1 << number;
        if (number == 1) name = inner;
        else version = inner;
    }
    PyObject *name_text = NULL, *version_text = NULL;
    Span empty = {(const uint8_t *)"", (const uint8_t *)""};
    rc = make_str(name.p != NULL ? &name : &empty, &name_text);
    if (rc == OK) rc = make_str(version.p != NULL ? &version : &empty, &version_text);
    while (rc == OK && s.p < s.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&s, &number, &wire, &inner, &scalar) != OK) rc = FALLBACK;
        else if (number == 2) rc = log_record(c, inner, resource, name_text, version_text, records);
    }
    Py_XDECREF(name_text);
    Py_XDECREF(version_text);
    return rc;
}

static int
resource_logs(Ctx *c, Span s, PyObject *records)
{
    Span walk = s, resource = {NULL, NULL};
    int rc;
    while (walk.p < walk.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&walk, &number, &wire, &inner, &scalar) != OK || wire != WT_LEN)
            return FALLBACK;
        if (number == 1) {
            if (resource.p != NULL) return FALLBACK;
            resource = inner;
        }
        else if (number == 3) {
            if ((rc = check_str(&inner)) != OK) return rc;
        }
        else if (number != 2) {
            return FALLBACK;
        }
    }
    Attributes attributes = {PyDict_New(), 0};
    if (attributes.dict == NULL) return ERROR;
    rc = OK;
    int dropped_seen = 0;
    while (rc == OK && resource.p != NULL && resource.p < resource.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&resource, &number, &wire, &inner, &scalar) != OK) rc = FALLBACK;
        else if (number == 1 && wire == WT_LEN) rc = add_attribute(c, &attributes, inner);
        else if (number == 2 && wire == WT_VARINT && !dropped_seen) dropped_seen = 1;
        else rc = FALLBACK; /* entity_refs and anything newer: left to Python */
    }
    while (rc == OK && s.p < s.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&s, &number, &wire, &inner, &scalar) != OK) rc = FALLBACK;
        else if (number == 2) rc = scope_logs(c, inner, attributes.dict, records);
    }
    Py_DECREF(attributes.dict);
    return rc;
}

static PyObject *
decode(PyObject *module, PyObject *args)
{
    Py_buffer data;
    PyObject *cls, *setters;
    Py_ssize_t max_records, max_attributes, max_values;
    int max_depth;
    if (!PyArg_ParseTuple(args, "y*O!O!nnin", &data, &PyType_Type, &cls, &PyTuple_Type,
                          &setters, &max_records, &max_attributes, &max_depth, &max_values))
        return NULL;
    if (PyTuple_GET_SIZE(setters) != N_FIELDS) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "setters: 13 slot descriptors expected");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < N_FIELDS; i++) {
        if (Py_TYPE(PyTuple_GET_ITEM(setters, i))->tp_descr_set == NULL) {
            PyBuffer_Release(&data);
            PyErr_SetString(PyExc_TypeError, "setters: data descriptors expected");
            return NULL;
        }
    }
    Ctx c = {max_records, max_attributes, max_values, max_depth, (PyTypeObject *)cls, setters};
    PyObject *records = PyList_New(0);
    int rc = records == NULL ? ERROR : OK;
    Span s = {(const uint8_t *)data.buf, (const uint8_t *)data.buf + data.len};
    while (rc == OK && s.p < s.end) {
        uint32_t number;
        int wire;
        Span inner;
        uint64_t scalar;
        if (read_field(&s, &number, &wire, &inner, &scalar) != OK || number != 1 ||
            wire != WT_LEN)
            rc = FALLBACK;
        else
            rc = resource_logs(&c, inner, records);
    }
    PyBuffer_Release(&data);
    if (rc == OK) return records;
    Py_XDECREF(records);
    if (rc == ERROR) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS,
     "decode(data, cls, setters, max_records, max_attributes, max_depth, max_values)\n"
     "--\n\nThe records of an ExportLogsServiceRequest, or None: let the Python decoder "
     "decide."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "cs_sdk.collector._wire_speedups",
    "The collector's OTLP protobuf logs decoder in C (optional).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__wire_speedups(void)
{
    return PyModule_Create(&module);
}
