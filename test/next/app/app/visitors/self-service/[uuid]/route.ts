import { selfService } from "visitor-pass/next";

export const { GET, HEAD, POST } = selfService;
