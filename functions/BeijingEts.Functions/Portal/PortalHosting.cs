using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// Serves the web portal (portal/ in the repo, copied to the app's output by the csproj) at /, before authentication:
/// the files are public, every permission stays on the /api endpoints the portal calls with the user's token.
/// </summary>
public static class PortalHosting
{
    public const string Folder = "portal";

    public static IServiceCollection AddPortal(this IServiceCollection services)
    {
        services.AddSingleton<PortalSettings>();
        return services;
    }

    public static WebApplication UsePortal(this WebApplication app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, Folder);
        if (!Directory.Exists(root)) return app; // a build without the portal (it is copied by the csproj) still serves the API
        var files = new PhysicalFileProvider(root);
        var settings = app.Services.GetRequiredService<PortalSettings>();
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            OnPrepareResponse = context => Secure(context.Context.Response, settings, Path.GetFileName(context.File.Name)),
        });
        return app;
    }

    /// <summary>Cache headers and the Content-Security-Policy on every portal response.</summary>
    internal static void Secure(HttpResponse response, PortalSettings settings, string fileName)
    {
        var headers = response.Headers;
        // The vendored libraries change only with package-lock.json; our own files are revalidated (ETag) on each load so a deploy shows at once.
        headers.CacheControl = fileName.EndsWith(".min.js", StringComparison.Ordinal) ? "public, max-age=86400" : "no-cache";
        headers.ContentSecurityPolicy = settings.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
    }
}
