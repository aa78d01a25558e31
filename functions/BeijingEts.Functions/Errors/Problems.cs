namespace BeijingEts.Functions.Errors;

/// <summary>The problem responses the API gives, each with a detail that tells the caller what to fix.</summary>
public static class Problems
{
    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    public static ProblemHttpResult Unprocessable(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The request cannot be carried out", detail: detail, extensions: extensions);

    public static ProblemHttpResult UnknownUnit(string uscc) =>
        ProblemHandling.NotFound($"No unit {uscc} is registered; the regulator registers it with PUT /api/units/{uscc}.");
}
