using System.Net;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Hosting.Durable;
using BeijingEts.Functions.Hosting.Invocation;
using BeijingEts.Functions.Hosting.Local;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Market;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Portal;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Supervision;
using BeijingEts.Functions.Surrender;
using BeijingEts.Functions.Uploads;
using BeijingEts.Functions.Verification;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace BeijingEts.Functions;

/// <summary>Builds the app: the same wiring for run.sh, the Functions host, the tests and the benchmark.</summary>
public static class EtsApp
{
    /// <param name="settings">Configuration laid over the usual sources (tests, benchmark).</param>
    /// <param name="customize">Last word on the services: extra functions, a fake clock.</param>
    public static WebApplication Build(string[] args, IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? customize = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        var mode = RuntimeMode.FromConfiguration(builder.Configuration);
        var hostSettings = HostSettings.Load(builder.Configuration["Ets:HostJson"] ?? Path.Combine(AppContext.BaseDirectory, "host.json"));

        builder.WebHost.ConfigureKestrel(kestrel => ConfigureListeners(kestrel, mode));
        builder.AddEtsTelemetry();
        var services = builder.Services;
        services.AddSingleton(mode);
        services.AddSingleton(hostSettings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new StorageNames(builder.Configuration["Ets:StoragePrefix"] ?? ""));
        services.AddSingleton(sp => new StorageClients(builder.Configuration, sp.GetRequiredService<StorageNames>(), hostSettings.Queues.MessageEncoding));
        services.AddHostedService<StorageInitializer>();
        services.AddDurableEngine();
        services.AddFunctions(typeof(EtsApp).Assembly);
        services.AddSingleton<FunctionInvoker>();
        services.AddSingleton<TimerStatusStore>();
        services.AddEtsAudit();
        services.AddNotifications();
        services.AddSingleton<CalendarService>();
        services.AddLists();
        services.AddLedger();
        services.AddAllocation();
        services.AddUploads();
        services.AddReporting();
        services.AddSupervision();
        services.AddVerification();
        services.AddSurrender();
        services.AddMarket();
        services.AddApprovals();
        services.AddPortal();
        if (!mode.IsCustomHandler)
        {
            services.AddSingleton<LocalInvoker>();
            services.AddSingleton<BlobArrivalScanner>();
            services.AddHostedService<LocalTriggerRuntime>();
        }
        services.AddEtsProblems();
        services.AddEtsAuth(builder.Configuration, mode, builder.Environment);
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo { Title = "Beijing ETS management platform", Version = "v1" };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT" };
            return Task.CompletedTask;
        }));
        customize?.Invoke(services);

        var app = builder.Build();
        app.UseEtsProblems();
        app.UsePortal();
        app.UseAuthentication();
        app.UseAuthorization();
        var api = app.MapGroup("/" + hostSettings.RoutePrefix).WithDeclaredAccess(hostSettings.RoutePrefix);
        api.RequireAuditRows();
        api.MapHttpFunctions(typeof(EtsApp).Assembly);
        app.VerifyDeclaredAccess();
        app.MapOpenApi($"/{hostSettings.RoutePrefix}/openapi.json").AllowAnonymous();
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference($"/{hostSettings.RoutePrefix}/docs", o => o.WithOpenApiRoutePattern($"/{hostSettings.RoutePrefix}/openapi.json")).AllowAnonymous();
        }
        app.MapPortalEndpoints(hostSettings.RoutePrefix);
        app.MapInvocationEndpoints(app.Services.GetRequiredService<FunctionCatalog>());
        app.Lifetime.ApplicationStopped.Register(() => File.Delete(mode.InvocationSocketPath));
        return app;
    }

    private static void ConfigureListeners(KestrelServerOptions kestrel, RuntimeMode mode)
    {
        kestrel.Limits.MaxRequestBodySize = ProblemHandling.MaxRequestBodyBytes;
        kestrel.AddServerHeader = false;
        if (mode.CustomHandlerPort is { } handlerPort)
        {
            // Under the Functions host only the host talks to the app, on its loopback port.
            kestrel.Listen(IPAddress.Loopback, handlerPort);
            return;
        }
        kestrel.Listen(IPAddress.Loopback, mode.LocalPort);
        File.Delete(mode.InvocationSocketPath);
        kestrel.ListenUnixSocket(mode.InvocationSocketPath, listen => listen.Use(next => connection =>
        {
            connection.Items[InvocationEndpoints.ChannelItemKey] = true;
            return next(connection);
        }));
    }
}
