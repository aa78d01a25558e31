using Microsoft.AspNetCore.Connections.Features;

namespace BeijingEts.Functions.Hosting.Invocation;

/// <summary>
/// POST /{FunctionName}: the custom-handler contract. Only the host may call it: in Azure the app listens on the
/// host's loopback port alone; locally only connections on the runtime's private socket are let through.
/// </summary>
public static class InvocationEndpoints
{
    internal const string ChannelItemKey = "ets.invocation-channel";

    public static void MapInvocationEndpoints(this IEndpointRouteBuilder app, FunctionCatalog catalog)
    {
        foreach (var function in catalog.Functions)
        {
            app.MapPost("/" + function.Name, (HttpContext context, FunctionInvoker invoker, CancellationToken cancellationToken) =>
                    InvokeAsync(context, function, invoker, cancellationToken))
                .AllowAnonymous()
                .ExcludeFromDescription()
                .WithName("invoke-" + function.Name);
        }
    }

    private static async Task<IResult> InvokeAsync(HttpContext context, FunctionDescriptor function, FunctionInvoker invoker, CancellationToken cancellationToken)
    {
        if (!IsFromHost(context))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found",
                detail: $"No route {context.Request.Path}; the API lives under /api.");
        }
        InvocationRequest? request;
        try
        {
            request = await context.Request.ReadFromJsonAsync<InvocationRequest>(PayloadJson, cancellationToken);
        }
        catch (JsonException error)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad invocation payload", detail: error.Message);
        }
        if (request is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad invocation payload", detail: "The body must be a JSON object with Data and Metadata.");
        }
        var invocationId = context.Request.Headers["X-Azure-Functions-InvocationId"].FirstOrDefault() ?? context.TraceIdentifier;
        var (succeeded, response) = await invoker.InvokeAsync(function, request, invocationId, cancellationToken);
        // A non-2xx answer is what tells the host the invocation failed, so it retries the message.
        return Results.Json(response, PayloadJson, statusCode: succeeded ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError);
    }

    internal static readonly JsonSerializerOptions PayloadJson = new() { PropertyNameCaseInsensitive = true };

    private static bool IsFromHost(HttpContext context)
    {
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is not null && items.ContainsKey(ChannelItemKey))
        {
            return true;
        }
        var runtime = context.RequestServices.GetRequiredService<RuntimeMode>();
        return runtime.IsCustomHandler && context.Connection.RemoteIpAddress is { } address && System.Net.IPAddress.IsLoopback(address);
    }
}
