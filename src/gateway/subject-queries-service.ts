import { randomUUID } from "node:crypto";
import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import type { ListSubjectQueriesRequest } from "../gen/credex/v1/subject_queries_pb.js";
import { CredexError, toCredexError } from "../core/errors.js";
import { listSubjectQueries, type SubjectQueriesDeps } from "../core/subject-queries/list-subject-queries.js";
import { isUndecodable, requestSizeOf, type UndecodableRequest } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";
import { randomTraceId } from "./trace-id.js";

export interface SubjectQueriesServiceDeps extends SubjectQueriesDeps {
  readonly instance: string;
  /** False while the gateway drains: new calls are refused with SHUTTING_DOWN (and audited). */
  readonly acceptingCalls: () => boolean;
}

/** The grpc-js handler of CreditExchange.ListSubjectQueries (src/core/subject-queries). */
export function createSubjectQueriesHandlers(deps: SubjectQueriesServiceDeps) {
  return {
    listSubjectQueries(call: ServerUnaryCall<ListSubjectQueriesRequest | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) {
      const raw = call.request;
      const request = !deps.acceptingCalls()
        ? new CredexError("SHUTTING_DOWN")
        : isUndecodable(raw)
          ? new CredexError(raw.$undecodable, `the request could not be accepted: ${raw.detail}`, { size: String(raw.size) })
          : raw;
      const ctx = {
        callId: randomUUID(),
        traceId: randomTraceId(),
        gatewayInstance: deps.instance,
        method: "ListSubjectQueries",
        receivedAt: new Date(),
        peerAddress: call.getPeer(),
        requestBytes: requestSizeOf(raw as object),
        attributes: {},
      };
      listSubjectQueries(deps, ctx, peerTlsOf(call), request).then(
        (response) => callback(null, response),
        (err) => callback(statusFromError(toCredexError(err))),
      );
    },
  };
}
