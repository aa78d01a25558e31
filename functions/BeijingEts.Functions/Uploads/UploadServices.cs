namespace BeijingEts.Functions.Uploads;

public static class UploadServices
{
    public static IServiceCollection AddUploads(this IServiceCollection services) => services
        .AddSingleton(sp => UploadSettings.From(sp.GetRequiredService<IConfiguration>()))
        .AddSingleton<UploadLinks>();
}
