using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Verification;

public static class VerificationServices
{
    public static IServiceCollection AddVerification(this IServiceCollection services) => services
        .AddSingleton<VerifierStore>()
        .AddSingleton<VerifierEligibilityService>()
        .AddSingleton(sp => VerificationSettings.From(sp.GetRequiredService<IConfiguration>()))
        .AddSingleton<IUploadHandler, VerificationUploads>();
}
