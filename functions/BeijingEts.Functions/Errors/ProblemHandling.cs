using System.Text.RegularExpressions;
using BeijingEts.Domain.Calendar;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;

namespace BeijingEts.Functions.Errors;

/// <summary>
/// One place that turns every failure into an RFC 9457 problem whose detail tells the caller what to fix:
/// unreadable or wrongly typed JSON, unknown fields, bodies over the limit, unknown routes, missing deadlines' calendars.
/// </summary>
public static partial class ProblemHandling
{
    /// <summary>Largest request body accepted, unless an endpoint (a file import) sets its own.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    public static IServiceCollection AddEtsProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["traceId"] = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<ExceptionToProblem>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o => ConfigureCommandJson(o.SerializerOptions));
        return services;
    }

    /// <summary>Commands are read strictly: unknown or repeated fields, numbers in strings and missing required fields are errors.</summary>
    public static void ConfigureCommandJson(JsonSerializerOptions options)
    {
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.AllowDuplicateProperties = false;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
    }

    public static IApplicationBuilder UseEtsProblems(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var detail = http.Response.StatusCode switch
            {
                404 => $"No resource at {http.Request.Method} {http.Request.Path}; see /api/openapi.json for the routes.",
                405 => $"{http.Request.Method} is not allowed on {http.Request.Path}; see /api/openapi.json for the methods it takes.",
                413 => $"Send at most {MaxRequestBodyBytes / 1024} KiB in one request.",
                415 => "Send the body in a media type this operation accepts: application/json, unless its documentation names another.",
                _ => null,
            };
            await Results.Problem(statusCode: http.Response.StatusCode, detail: detail).ExecuteAsync(http);
        });
        return app;
    }

    public static ProblemHttpResult BadRequest(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid", detail: detail, extensions: extensions);

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    /// <summary>A caller-facing sentence for a JSON reading failure, without .NET type names.</summary>
    public static string DescribeJsonError(JsonException error, Type? bodyType = null)
    {
        var path = string.IsNullOrEmpty(error.Path) ? "$" : error.Path;
        var message = error.Message;
        var unknown = UnknownMember().Match(message);
        if (unknown.Success) return $"Unknown field '{unknown.Groups[1].Value}' at {path}; remove it.";
        var missing = MissingRequired().Match(message);
        if (missing.Success) return $"Missing required field(s) {missing.Groups[1].Value.Replace("'", "", StringComparison.Ordinal)} at {TrimLast(path)}.";
        if (CannotConvert().IsMatch(message))
        {
            var expected = bodyType is null ? null : JsonPathTypes.Resolve(bodyType, path);
            return expected is null
                ? $"The value at {path} has the wrong type for that field."
                : $"The value at {path} has the wrong type: expected {JsonPathTypes.Describe(expected)}.";
        }
        if (message.Contains("null", StringComparison.OrdinalIgnoreCase) && message.Contains("non-nullable", StringComparison.OrdinalIgnoreCase))
            return $"The value at {path} must not be null.";
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase)) return $"A field appears twice at {path}; send it once.";
        var sentence = message.Split(" Path:")[0].Split(" LineNumber:")[0];
        return $"The body is not valid JSON at {path} (line {error.LineNumber + 1}, byte {error.BytePositionInLine + 1}): {sentence}";
    }

    private static string TrimLast(string path) => path.Contains('.') ? path[..path.LastIndexOf('.')] : "$";

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex("missing required properties including: (.*)\\.")]
    private static partial Regex MissingRequired();

    [GeneratedRegex("could not be converted to ")]
    private static partial Regex CannotConvert();

    private sealed class ExceptionToProblem(IProblemDetailsService problems, ILogger<ExceptionToProblem> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
        {
            var (status, title, detail) = exception switch
            {
                BadHttpRequestException { InnerException: JsonException json } => (400, "The request body is not valid", DescribeJsonError(json, BodyType(http))),
                BadHttpRequestException { StatusCode: 413 } => (413, "The request body is too large", $"Send at most {MaxRequestBodyBytes / 1024} KiB in one request."),
                BadHttpRequestException { StatusCode: 415 } bad => (415, "Unsupported media type", bad.Message.Replace("Expected a supported JSON media type but got", "Send application/json, not", StringComparison.Ordinal)),
                BadHttpRequestException bad when bad.Message.Contains("no body was provided", StringComparison.Ordinal) => (400, "The request body is missing", "This operation needs a JSON body."),
                BadHttpRequestException bad => (bad.StatusCode, "The request is not valid", DescribeBadRequest(bad)),
                // A body the handler read itself; a JsonException on a request without one is the server's own failure.
                JsonException json when http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0 => (400, "The request body is not valid", DescribeJsonError(json)),
                CalendarYearMissingException missing => (422, "No working-day calendar for that year", missing.Message),
                // A record that would outgrow what one table row holds: the input is too long, not the server broken.
                RequestFailedException { Status: 400, ErrorCode: "PropertyValueTooLarge" or "EntityTooLarge" or "RequestBodyTooLarge" } =>
                    (422, "The record would be too large", "What this adds makes the record larger than the platform keeps in one piece; send shorter texts or fewer items."),
                StorageUnreachableException or RequestFailedException { Status: 503 or 500 } or HttpRequestException => (503, "Storage is unavailable", "The platform's storage did not answer; try again shortly."),
                _ => (500, "Unexpected error", "The server failed; the trace id identifies this failure in the logs."),
            };
            if (status >= 500) logger.LogError(exception, "Request {Method} {Path} failed", http.Request.Method, http.Request.Path);
            http.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                Exception = exception,
                ProblemDetails = { Status = status, Title = title, Detail = detail },
            });
        }

        private static Type? BodyType(HttpContext http) =>
            // The handler runs with the endpoint cleared; the feature keeps the one that failed.
            (http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint())?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;

        private static string DescribeBadRequest(BadHttpRequestException bad)
        {
            // Route and query binding failures name the parameter: 'Failed to bind parameter "int year" from "abc".'
            var match = Regex.Match(bad.Message, "parameter \"(?:[^ \"]+ )?([^\" ]+)\" from \"([^\"]*)\"");
            return match.Success
                ? $"'{match.Groups[2].Value}' is not a valid value for {match.Groups[1].Value}."
                : bad.Message;
        }
    }
}
