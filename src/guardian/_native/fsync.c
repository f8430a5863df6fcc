/* guardian.journal._fsync: fsync on a thread that never takes the GIL, its end signalled on an eventfd.
 *
 * The journal's group commit hands each group's fsync to a Syncer (see
 * guardian/journal/syncer.py, whose ThreadSyncer is the same in Python). One sync at a time:
 * request(fd) starts it, the eventfd (fileno()) becomes readable when it has ended, result()
 * takes its errno once (0: synced; None while it runs), wait() blocks without the GIL until it
 * has ended, close() stops the thread. A process forked from one that used a Syncer starts a
 * thread of its own on its first request.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifndef __linux__
#error "guardian.journal._fsync needs Linux (eventfd); the Python syncer is used elsewhere"
#endif

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
    PyObject_HEAD
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    pid_t owner;       /* the process whose thread runs: 0 before the first request */
    int todo;          /* descriptor to sync, -1 when none */
    int busy;          /* requested, outcome not yet taken */
    int done;          /* the outcome is ready */
    int outcome;       /* errno of the last sync, 0 when it succeeded */
    int closing;
    int efd;
} Syncer;

static void *run(void *arg) {
    Syncer *self = (Syncer *)arg;
    uint64_t one = 1;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (self->todo < 0 && !self->closing)
            pthread_cond_wait(&self->cv, &self->mu);
        if (self->todo < 0)
            break;
        int fd = self->todo;
        self->todo = -1;
        pthread_mutex_unlock(&self->mu);
        int outcome = fsync(fd) == 0 ? 0 : errno;
        pthread_mutex_lock(&self->mu);
        self->outcome = outcome;
        self->done = 1;
        /* signalled with the lock held: result() drains the eventfd under it, so a count
           read there is always this outcome's, never the next one's */
        while (write(self->efd, &one, sizeof one) < 0 && errno == EINTR) {
        }
        pthread_cond_broadcast(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

static int Syncer_init(Syncer *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "", kwlist))
        return -1;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    self->owner = 0;
    self->todo = -1;
    self->busy = self->done = self->outcome = self->closing = 0;
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->efd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

static void stop(Syncer *self) {
    if (self->owner == getpid()) {
        pthread_mutex_lock(&self->mu);
        self->closing = 1;
        pthread_cond_broadcast(&self->cv);
        pthread_mutex_unlock(&self->mu);
        Py_BEGIN_ALLOW_THREADS
        pthread_join(self->thread, NULL);
        Py_END_ALLOW_THREADS
    }
    self->owner = 0;
    if (self->efd >= 0) {
        close(self->efd);
        self->efd = -1;
    }
}

static void Syncer_dealloc(Syncer *self) {
    stop(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Syncer_fileno(Syncer *self, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromLong(self->efd);
}

static PyObject *Syncer_request(Syncer *self, PyObject *arg) {
    int fd = (int)PyLong_AsLong(arg);
    if (fd == -1 && PyErr_Occurred())
        return NULL;
    if (self->efd < 0) {
        PyErr_SetString(PyExc_ValueError, "the syncer is closed");
        return NULL;
    }
    if (self->owner != 0 && self->owner != getpid()) {
        /* forked: the thread stayed in the parent; start afresh */
        pthread_mutex_init(&self->mu, NULL);
        pthread_cond_init(&self->cv, NULL);
        self->owner = 0;
        self->todo = -1;
        self->busy = self->done = 0;
    }
    pthread_mutex_lock(&self->mu);
    if (self->busy) {
        pthread_mutex_unlock(&self->mu);
        PyErr_SetString(PyExc_RuntimeError, "a sync is already in progress");
        return NULL;
    }
    self->todo = fd;
    self->busy = 1;
    self->done = 0;
    if (self->owner == 0) {
        int failed = pthread_create(&self->thread, NULL, run, self);
        if (failed) {
            self->todo = -1;
            self->busy = 0;
            pthread_mutex_unlock(&self->mu);
            errno = failed;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        self->owner = getpid();
    }
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    Py_RETURN_NONE;
}

static PyObject *Syncer_result(Syncer *self, PyObject *Py_UNUSED(ignored)) {
    uint64_t count;
    pthread_mutex_lock(&self->mu);
    if (self->efd >= 0 && read(self->efd, &count, sizeof count) < 0) {
        /* EAGAIN: nothing was signalled */
    }
    if (!self->done) {
        pthread_mutex_unlock(&self->mu);
        Py_RETURN_NONE;
    }
    int outcome = self->outcome;
    self->done = self->busy = 0;
    pthread_mutex_unlock(&self->mu);
    return PyLong_FromLong(outcome);
}

static PyObject *Syncer_wait(Syncer *self, PyObject *Py_UNUSED(ignored)) {
    if (self->owner != getpid())
        Py_RETURN_NONE;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&self->mu);
    while (self->busy && !self->done)
        pthread_cond_wait(&self->cv, &self->mu);
    pthread_mutex_unlock(&self->mu);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *Syncer_close(Syncer *self, PyObject *Py_UNUSED(ignored)) {
    stop(self);
    Py_RETURN_NONE;
}

static PyMethodDef Syncer_methods[] = {
    {"fileno", (PyCFunction)Syncer_fileno, METH_NOARGS, "readable while an outcome waits"},
    {"request", (PyCFunction)Syncer_request, METH_O, "start fsync(fd)"},
    {"result", (PyCFunction)Syncer_result, METH_NOARGS, "errno of the ended sync, or None"},
    {"wait", (PyCFunction)Syncer_wait, METH_NOARGS, "block until the sync has ended"},
    {"close", (PyCFunction)Syncer_close, METH_NOARGS, "stop the thread"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SyncerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "guardian.journal._fsync.Syncer",
    .tp_doc = "fsync on a thread without the GIL, its end signalled on an eventfd",
    .tp_basicsize = sizeof(Syncer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Syncer_init,
    .tp_dealloc = (destructor)Syncer_dealloc,
    .tp_methods = Syncer_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "guardian.journal._fsync",
    "fsync off the event loop, on a thread that never takes the GIL", -1, NULL, NULL, NULL,
    NULL, NULL,
};

PyMODINIT_FUNC PyInit__fsync(void) {
    if (PyType_Ready(&SyncerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&SyncerType);
    if (PyModule_AddObject(m, "Syncer", (PyObject *)&SyncerType) < 0) {
        Py_DECREF(&SyncerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
