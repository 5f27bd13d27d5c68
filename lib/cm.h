/*
 * cm.h - the whole public interface of libcm, the core library of the cm
 * toolchain: one header per module, lowest first (ARCHITECTURE.md draws
 * the layers).  The library never prints and never exits: every fallible
 * call returns a cm_status (or NULL) and fills a caller-owned cm_error.
 * Handles are opaque; every *_free accepts NULL.  The HTTP server is not
 * part of libcm: it is libcmserve, serve/cm_serve.h.
 */
#ifndef CM_H
#define CM_H

#include "common/cm_common.h"
#include "time/cm_time.h"
#include "stream/cm_stream.h"
#include "clean/cm_clean.h"
#include "features/cm_features.h"
#include "nn/cm_nn.h"
#include "model/cm_model.h"
#include "train/cm_train.h"
#include "predict/cm_predict.h"
#include "tune/cm_tune.h"
#include "forecast/cm_forecast.h"
#include "plot/cm_plot.h"

#endif
